"""The page producers of a build beyond the keys page: each fills ``build.context`` for the
templates and writes its assets (downloads, charts, calendars) into ``build.docs``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PRODUCERS: list[Callable[[Any], None]] = []
