"""A Content-Security-Policy for every page of the built site, and checks that it can hold.

MkDocs Material writes a few small inline scripts into every page (its palette and storage
helpers); they differ from page to page (relative paths), so each page gets a policy with the
hashes of its own inline scripts. Everything else must come from the site itself:

    default-src 'none'; script-src 'self' 'sha256-…'; style-src 'self'; img-src 'self' data:;
    font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self';
    object-src 'none'; base-uri 'self'; form-action 'none'

The two pages that need cryptography (marked with a ``data-lx-page`` attribute) also get
``'wasm-unsafe-eval'`` (libsodium is WebAssembly) and the gateway's origin in ``connect-src``;
no other page may talk to the gateway. ``form-action 'none'``: the pages' forms are handled by
script and must never be submitted by the browser itself (the report or the token would end up in
a URL). The policy is a ``<meta http-equiv>`` so that it travels with the files to any static
host; ``frame-ancestors`` cannot be set that way — a host should send it as a header (``serve.py``
does).

A page with an inline event handler (``onclick=…``), a ``javascript:`` URL, or a script,
stylesheet or image from another origin fails the build.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from .errors import PublisherError

CRYPTO_MARKER = "data-lx-page"
SCRIPT_TYPES = ("", "text/javascript", "application/javascript", "module")
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data")
FETCHING_LINKS = ("stylesheet", "icon", "preload", "modulepreload", "manifest", "prefetch")
CHARSET_META = re.compile(rb"<meta\s+charset=[\"']?utf-8[\"']?\s*/?>", re.IGNORECASE)
HEAD = re.compile(rb"<head(\s[^>]*)?>", re.IGNORECASE)
FETCHING_LINKS_RE = re.compile(r"\b(" + "|".join(FETCHING_LINKS) + r")\b", re.IGNORECASE)


class PageSecurityError(PublisherError):
    """A built page breaks the site's script rules (inline handler, foreign script, …)."""


@dataclass
class PageScan:
    """What one page needs in its policy, and what it must not have."""

    scripts: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    style_attributes: set[str] = field(default_factory=set)
    crypto: bool = False
    has_policy: bool = False
    problems: list[str] = field(default_factory=list)


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = PageScan()
        self._inline: str | None = None  # "script" or "style" while inside an inline one
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        where = f"<{tag}> (line {self.getpos()[0]})"
        for name, value in values.items():
            if name.startswith("on"):
                self.scan.problems.append(f"inline event handler {name}= on {where}")
            if name in URL_ATTRIBUTES and value.strip().lower().startswith("javascript:"):
                self.scan.problems.append(f"javascript: URL in {name}= on {where}")
            if name == "style":
                self.scan.style_attributes.add(value)
            if name == CRYPTO_MARKER:
                self.scan.crypto = True
        if tag == "meta" and values.get("http-equiv", "").lower() == "content-security-policy":
            self.scan.has_policy = True
        if tag == "script":
            if "src" in values:
                self._foreign(values["src"], where)
            elif values.get("type", "").lower() in SCRIPT_TYPES:
                self._inline, self._text = "script", []
        elif tag == "style":
            self._inline, self._text = "style", []
        elif tag == "link" and FETCHING_LINKS_RE.search(values.get("rel", "")):
            self._foreign(values.get("href", ""), where)
        elif tag in ("img", "iframe", "embed", "object", "audio", "video", "source"):
            self._foreign(values.get("src", "") or values.get("data", ""), where)

    def _foreign(self, url: str, where: str) -> None:
        if re.match(r"^\s*(https?:)?//", url, re.IGNORECASE):
            self.scan.problems.append(f"{url} is loaded from another origin by {where}")

    def handle_data(self, data: str) -> None:
        if self._inline:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._inline == tag:
            target = self.scan.scripts if tag == "script" else self.scan.styles
            target.append("".join(self._text))
            self._inline = None


def scan_page(text: str) -> PageScan:
    """Inline scripts, styles and problems of one HTML page."""
    scanner = _Scanner()
    # Script and style contents are raw text: the parser hands them over unconverted, as the
    # browser hashes them.
    scanner.feed(text)
    scanner.close()
    return scanner.scan


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def page_policy(scan: PageScan, gateway_origin: str | None) -> str:
    """The Content-Security-Policy for a scanned page."""
    script_src = ["'self'", *sorted({_hash(s) for s in scan.scripts})]
    connect_src = ["'self'"]
    if scan.crypto:
        script_src.append("'wasm-unsafe-eval'")  # libsodium compiles its WebAssembly module
        if gateway_origin:
            connect_src.append(gateway_origin)
    style_src = ["'self'", *sorted({_hash(s) for s in scan.styles})]
    if scan.style_attributes:
        # Python-Markdown writes column alignment as style="text-align: …" on table cells.
        style_src += ["'unsafe-hashes'", *sorted({_hash(s) for s in scan.style_attributes})]
    directives = [
        "default-src 'none'",
        "script-src " + " ".join(script_src),
        "style-src " + " ".join(style_src),
        "img-src 'self' data:",  # Material's icons are data: SVG masks in its stylesheet
        "font-src 'self'",
        "connect-src " + " ".join(connect_src),
        "worker-src 'self'",  # Material's search worker
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'none'",
    ]
    return "; ".join(directives)


def secure_page(path: Path, gateway_origin: str | None) -> PageScan:
    """Check one page and write its policy (and a no-referrer policy) into its head."""
    data = path.read_bytes()
    scan = scan_page(data.decode("utf-8"))
    if scan.problems:
        raise PageSecurityError("; ".join(scan.problems))
    if scan.has_policy:
        raise PageSecurityError("already has a Content-Security-Policy")
    meta = (
        f'<meta http-equiv="Content-Security-Policy" '
        f'content="{html.escape(page_policy(scan, gateway_origin))}">'
        '<meta name="referrer" content="no-referrer">'
    ).encode()
    anchor = CHARSET_META.search(data) or HEAD.search(data)
    if anchor is None:
        raise PageSecurityError("no <head> to put the Content-Security-Policy in")
    path.write_bytes(data[: anchor.end()] + meta + data[anchor.end() :])
    return scan


def secure_site(site: Path, gateway_origin: str | None) -> dict[str, int]:
    """Check every HTML page of ``site`` and give each its policy; counts for the build log."""
    pages = crypto = 0
    for path in sorted(site.rglob("*.html")):
        try:
            scan = secure_page(path, gateway_origin)
        except PageSecurityError as exc:
            raise PageSecurityError(f"{path.relative_to(site)}: {exc}") from exc
        pages += 1
        crypto += scan.crypto
    return {"pages": pages, "crypto_pages": crypto}
