"""``sitemap.xml`` files that Material for MkDocs looks for, so that no page gets a 404.

On every page, Material's script fetches ``sitemap.xml`` beside the target of each
``<link rel="alternate" hreflang>`` in the head, to map the page to its translation when the
reader switches language. Material expects those links to point at language roots with a
sitemap each, but the i18n plugin points them at the page's own translation (``/statistics/``,
``/en/statistics/``), so every page asked for a sitemap that did not exist, and the language
roots other than the first had none either.

MkDocs' own sitemap needs ``site_url``, which the publisher does not know (the site may be
served from any host), and without it lists URLs such as ``Nonedesk/`` that no crawler can use.
So every folder with a page gets a valid, empty sitemap: Material then finds no mapping and
follows the language link as it is, which is the translated page; crawlers are told nothing
wrong. A sitemap whose URLs are all absolute (a ``site_url`` was configured) is kept.
"""

from __future__ import annotations

import re
from pathlib import Path

EMPTY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>\n'
)
_LOC = re.compile(r"<loc>([^<]*)</loc>")


def _absolute(sitemap: Path) -> bool:
    locs = _LOC.findall(sitemap.read_text(encoding="utf-8"))
    return bool(locs) and all(loc.startswith(("https://", "http://")) for loc in locs)


def write_sitemaps(site: Path) -> int:
    """Give every folder holding an ``index.html`` a sitemap; return how many were written."""
    root = site / "sitemap.xml"
    if root.exists() and not _absolute(root):
        root.unlink()
        (site / "sitemap.xml.gz").unlink(missing_ok=True)
    written = 0
    for page in sorted(site.rglob("index.html")):
        target = page.parent / "sitemap.xml"
        if not target.exists():
            target.write_text(EMPTY, encoding="utf-8")
            written += 1
    return written
