"""What the two browser pages (submit, status) need in the built site, beside MkDocs' output.

    js/*.js, js/*.mjs                 the portal's ES modules (portal/js/), unchanged
    js/vendor/libsodium.mjs           the standard libsodium build from node_modules, unchanged
    js/vendor/libsodium-wrappers.mjs  the standard wrappers build; its one bare import
                                      ``from"libsodium"`` is pointed at ``./libsodium.mjs``
    js/vendor/vendor.json             package versions and SHA-256 of the npm files they came from
    portal.json                       {"v": 1, "gateway_url", "gateway_origin",
                                       "publisher_fingerprint", "taxonomy": "taxonomy.json"}
    taxonomy.json                     the desk's problem types, ranks and regions (versioned)

Everything is served by the site itself: the pages load no script, style or font from another
origin. The office key is *not* in portal.json: the pages take it from the publisher-signed
``keys.json`` and check that signature against ``publisher_fingerprint``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lianxin.domain.datafiles import load_taxonomy
from lianxin.keys import load_keyring

from .errors import PublisherError

CONFIG_FILE = "portal.json"
TAXONOMY_FILE = "taxonomy.json"
SCRIPT_SUFFIXES = (".js", ".mjs")
LIBSODIUM = ("libsodium", "dist/modules-esm/libsodium.mjs", "libsodium.mjs")
WRAPPERS = (
    "libsodium-wrappers",
    "dist/modules-esm/libsodium-wrappers.mjs",
    "libsodium-wrappers.mjs",
)
# The wrappers' ESM build imports the core by its bare package name, which a browser cannot
# resolve without an import map (an inline script); the copy imports the file beside it instead.
BARE_IMPORT = b'from"libsodium"'
LOCAL_IMPORT = b'from"./libsodium.mjs"'
LOOPBACK_HOSTS = ("localhost",)


class BrowserAssetsError(PublisherError):
    """The browser pages' files cannot be put together (missing npm build, bad gateway URL)."""


def gateway_origin(url: str) -> str:
    """Check a gateway base URL and return its origin (for the CSP's ``connect-src``).

    https is required, except on loopback (tests, previews): the gateway's answer carries the
    tracking token, which must never cross a network in clear text.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BrowserAssetsError(f"gateway URL {url!r}: expected https://host[:port][/path]")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise BrowserAssetsError(f"gateway URL {url!r}: no query, fragment or user name")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise BrowserAssetsError(
            f"gateway URL {url!r}: use https (plain http only on loopback): the gateway's answer "
            "carries the reporter's tracking token"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise BrowserAssetsError(f"gateway URL {url!r}: bad port") from exc
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def install_browser_assets(
    site: Path,
    *,
    portal_dir: Path,
    node_modules: Path,
    keys_dir: Path,
    gateway_url: str | None,
) -> None:
    """Copy the scripts and libsodium into ``site`` and write the site config and taxonomy."""
    js = site / "js"
    js.mkdir(parents=True, exist_ok=True)
    for script in sorted((portal_dir / "js").iterdir()):
        if script.suffix in SCRIPT_SUFFIXES and script.is_file():
            shutil.copyfile(script, js / script.name)
    copy_libsodium(node_modules, js / "vendor")
    keyring = load_keyring(keys_dir)
    config = {
        "v": 1,
        "gateway_url": gateway_url.rstrip("/") if gateway_url else None,
        "gateway_origin": gateway_origin(gateway_url) if gateway_url else None,
        "publisher_fingerprint": keyring.publisher.fingerprint,
        "taxonomy": TAXONOMY_FILE,
    }
    _write_json(site / CONFIG_FILE, config)
    _write_json(site / TAXONOMY_FILE, taxonomy_document())


def copy_libsodium(node_modules: Path, vendor: Path) -> None:
    """Copy the standard libsodium ESM build into ``vendor`` with its provenance."""
    vendor.mkdir(parents=True, exist_ok=True)
    provenance: dict[str, Any] = {}
    for package, path, name in (LIBSODIUM, WRAPPERS):
        source = node_modules / package / path
        manifest = node_modules / package / "package.json"
        if not source.is_file() or not manifest.is_file():
            raise BrowserAssetsError(
                f"{source} is missing: run `npm ci` at the repository root (libsodium-wrappers "
                "is pinned by package-lock.json)"
            )
        data = source.read_bytes()
        provenance[package] = {
            "version": json.loads(manifest.read_text(encoding="utf-8"))["version"],
            "file": f"node_modules/{package}/{path}",
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        if package == WRAPPERS[0]:
            if data.count(BARE_IMPORT) != 1:
                raise BrowserAssetsError(
                    f"{source}: expected exactly one {BARE_IMPORT.decode()} import to point at "
                    "the local copy; the npm build changed shape"
                )
            data = data.replace(BARE_IMPORT, LOCAL_IMPORT)
            provenance[package]["changed"] = (
                f"{BARE_IMPORT.decode()} -> {LOCAL_IMPORT.decode()}, nothing else"
            )
        (vendor / name).write_bytes(data)
    _write_json(vendor / "vendor.json", provenance)


def taxonomy_document() -> dict[str, Any]:
    """The desk's lists that the submit form offers, with their versions."""
    tax = load_taxonomy()
    return {
        "v": 1,
        "problem_types": {
            "version": tax.problem_types.version,
            "items": [
                {"code": p.code, "zh": p.zh, "en": p.en, "parent": p.parent}
                for p in tax.problem_types
            ],
        },
        "ranks": {
            "version": tax.ranks.version,
            "items": [{"code": r.code, "zh": r.zh, "en": r.en} for r in tax.ranks],
        },
        "regions": {
            "version": tax.regions.version,
            "items": [
                {"code": r.code, "zh": r.zh, "en": r.en, "parent": r.parent} for r in tax.regions
            ],
        },
    }


def _write_json(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
