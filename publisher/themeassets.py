"""Trimming Material for MkDocs' built assets: no source maps, and a search index loaded late.

Source maps are for the theme's developers (a quarter of the site's bytes): the built site
ships none, and the ``sourceMappingURL`` comments that point at them go too, so that a browser's
developer tools do not ask for missing files.

Material's bundle fetches ``search/search_index.json`` (hundreds of kilobytes) on every page
as soon as it loads, unless the page was opened from a ``file:`` URL, in which case it waits
until the search box is opened. The theme has no setting for this, so the publisher makes the
bundle take the ``file:`` path everywhere: the index is fetched when someone opens or focuses the
search box. If a new Material version no longer has that code, the bundle is left as it is and
the build says so (the site still works; it only loads the index early).

Language alternates: Material writes ``<link rel="alternate" hreflang>`` with relative URLs,
which search engines ignore; with the site's URL known (``--site-url``) they become absolute.

These edits happen before the manifest is signed; the pages' Content-Security-Policy hashes
only inline scripts, so editing the bundle file does not touch them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import urljoin

SOURCE_MAP_COMMENT = re.compile(
    rb"\n?(?://# sourceMappingURL=[^\n]*|/\*# sourceMappingURL=[^*]*\*/)\s*\Z"
)
# Material 9.x: merge(of(location.protocol !== "file:"), watchToggle("search")) decides when
# the search worker receives the index; with of(false) only the search toggle sets it off.
ALTERNATE = re.compile(r'(<link rel="alternate" href=")([^"]*)(" hreflang="[^"]*">)')
EAGER_INDEX = re.compile(rb'\(location\.protocol!=="file:"\)(?=,[\w$]+\("search"\)\))')


@dataclass(frozen=True)
class Trimmed:
    """What was removed or changed."""

    maps_removed: int
    bytes_removed: int
    lazy_search: bool


def strip_source_maps(site: Path) -> tuple[int, int]:
    """Delete every ``*.map`` file and the comments that refer to them; (files, bytes)."""
    removed = size = 0
    for path in sorted(site.rglob("*.map")):
        size += path.stat().st_size
        path.unlink()
        removed += 1
    for pattern in ("*.js", "*.css"):
        for path in site.rglob(pattern):
            data = path.read_bytes()
            if b"sourceMappingURL" not in data[-400:]:
                continue
            trimmed = SOURCE_MAP_COMMENT.sub(b"\n", data)
            if trimmed != data:
                path.write_bytes(trimmed)
    return removed, size


def lazy_search_index(site: Path) -> bool:
    """Make Material's bundle fetch the search index only when the search box is opened."""
    changed = False
    for path in sorted((site / "assets" / "javascripts").glob("bundle.*.min.js")):
        data = path.read_bytes()
        patched, count = EAGER_INDEX.subn(b"(!1)", data)
        if count == 1:
            path.write_bytes(patched)
            changed = True
    return changed


def _absolute(page_url: str, match: re.Match[str]) -> str:
    return f"{match[1]}{urljoin(page_url, match[2])}{match[3]}"


def absolute_alternates(site: Path, site_url: str) -> int:
    """Rewrite every page's language-alternate links against ``site_url``; pages changed."""
    changed = 0
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        page_url = urljoin(site_url, rel.removesuffix("index.html"))
        text = path.read_text(encoding="utf-8")
        fixed = ALTERNATE.sub(partial(_absolute, page_url), text)
        if fixed != text:
            path.write_text(fixed, encoding="utf-8")
            changed += 1
    return changed


def trim_theme_assets(site: Path, site_url: str | None = None) -> Trimmed:
    """All of the above, for the build log."""
    removed, size = strip_source_maps(site)
    if site_url:
        absolute_alternates(site, site_url)
    return Trimmed(removed, size, lazy_search_index(site))
