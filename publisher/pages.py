"""The page producers of a build beyond the keys page: each fills ``build.context`` for the
templates and writes its assets (downloads, charts, calendars) into ``build.docs``."""

from __future__ import annotations

from .context import PageProducer
from .leaderpage import leaders_page
from .rolluppage import rollup_page
from .statpage import statistics_page

# Leaders first: a bad leaders file stops the build before any statistics are released. The
# roll-up after the statistics: it shows the month the office has just released.
PRODUCERS: list[PageProducer] = [leaders_page, statistics_page, rollup_page]
