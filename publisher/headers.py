"""Every page's Content-Security-Policy as web-server configuration, to send as a header.

A page carries its policy in a ``<meta>`` (``csp.py``), so that it travels with the files to any
static host. A server that sends the same policy as a header also covers what a ``<meta>``
cannot (``frame-ancestors``) and files that are not HTML. The policies differ from page to page
(each lists the hashes of its own inline scripts), so they are written as the body of an nginx
``map $uri`` block (``deploy/nginx``): one line per page, and one for the folder of each
``index.html``. The file is replaced atomically; nginx reads it when it reloads.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from .errors import PublisherError

META = re.compile(rb'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')


class HeaderMapError(PublisherError):
    """The pages' policies cannot be written as server configuration."""


def page_policies(site: Path) -> dict[str, str]:
    """Each page's URL path (and its folder's, for an ``index.html``) and its policy."""
    policies: dict[str, str] = {}
    for path in sorted(site.rglob("*.html")):
        found = META.search(path.read_bytes())
        if found is None:
            raise HeaderMapError(f"{path.relative_to(site)}: no Content-Security-Policy")
        policy = html.unescape(found.group(1).decode())
        uri = "/" + path.relative_to(site).as_posix()
        policies[uri] = policy
        if path.name == "index.html":
            policies[uri.removesuffix("index.html")] = policy
    return policies


def _quoted(text: str) -> str:
    if any(c in text for c in "\n\r$") or text.endswith("\\"):  # $ would start a variable
        raise HeaderMapError(f"{text!r} cannot be written into an nginx map")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def nginx_csp_map(site: Path) -> str:
    """The body of ``map $uri $lianxin_csp { … }``: one ``"path" "policy";`` line per page."""
    lines = ["# Written by `lianxin publish --nginx-csp`: each page's Content-Security-Policy."]
    for uri, policy in page_policies(site).items():
        lines.append(f"{_quoted(uri)} {_quoted(policy)};")
    return "\n".join(lines) + "\n"


def write_nginx_csp_map(site: Path, target: Path) -> int:
    """Write the map for ``site`` to ``target`` atomically; returns the number of pages."""
    text = nginx_csp_map(site)
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
    except OSError as exc:
        raise HeaderMapError(f"cannot write {target}: {exc.strerror}") from exc
    return text.count("\n") - 1
