"""What the publisher adds for the browser pages: scripts, libsodium, config, taxonomy, and a
Content-Security-Policy on every page (checked here without a browser; the browser tests check
that the pages work under it)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from datetime import date
from html import unescape
from pathlib import Path

import pytest
from conftest import ROOT

from lianxin.domain.datafiles import load_taxonomy
from lianxin.keys import init_keys, load_keyring
from lianxin.store.db import connect
from publisher.browser import BrowserAssetsError, gateway_origin
from publisher.build import PublishSettings, publish
from publisher.csp import PageSecurityError, scan_page, secure_page

GATEWAY = "https://gw.example.org:8443/lianxin"
CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')
CRYPTO_PAGES = (
    "submit/index.html",
    "en/submit/index.html",
    "status/index.html",
    "en/status/index.html",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("browser-assets")
    init_keys(tmp / "keys")
    connect(tmp / "db.sqlite").conn.close()
    publish(
        PublishSettings(
            tmp / "db.sqlite", tmp / "keys", tmp / "site", date(2026, 11, 23), gateway_url=GATEWAY
        )
    )
    return tmp / "site", tmp / "keys"


def policy_of(page: Path) -> dict[str, list[str]]:
    text = page.read_text(encoding="utf-8")
    found = CSP_META.search(text)
    assert found, f"{page}: no Content-Security-Policy"
    loads = [i for i in (text.find("<script"), text.find("<style"), text.find("<link")) if i >= 0]
    assert found.start() < min(loads, default=len(text)), "the policy must come first"
    directives = [d.strip().split() for d in unescape(found.group(1)).split(";")]
    return {d[0]: d[1:] for d in directives}


def test_every_page_has_a_policy_that_allows_only_its_own_inline_scripts(
    site: tuple[Path, Path],
) -> None:
    pages = sorted(site[0].rglob("*.html"))
    assert len(pages) >= 8
    for page in pages:
        policy = policy_of(page)
        assert policy["default-src"] == ["'none'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"]
        assert policy["form-action"] == ["'none'"]
        inline = re.findall(r"<script>(.*?)</script>", page.read_text(encoding="utf-8"), re.S)
        hashes = {
            "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
            for s in inline
        }
        assert set(policy["script-src"]) - {"'self'", "'wasm-unsafe-eval'"} == hashes, page
        assert all("'unsafe-inline'" not in sources for sources in policy.values())
        crypto = page.relative_to(site[0]).as_posix() in CRYPTO_PAGES
        assert ("'wasm-unsafe-eval'" in policy["script-src"]) is crypto, page
        expected = ["'self'", "https://gw.example.org:8443"] if crypto else ["'self'"]
        assert policy["connect-src"] == expected, page


def test_no_page_has_an_inline_handler_or_a_foreign_script(site: tuple[Path, Path]) -> None:
    for page in site[0].rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", text), page
        assert not re.search(r"<script[^>]+src=\"(https?:)?//", text), page
    for page in CRYPTO_PAGES:
        text = (site[0] / page).read_text(encoding="utf-8")
        assert re.search(r'<script type="module" src="(\.\./)+js/(submit|status)\.js">', text)


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ('<button onclick="go()">x</button>', "inline event handler onclick"),
        ('<a href=" JavaScript:alert(1)">x</a>', "javascript: URL"),
        ('<script src="https://cdn.example.org/x.js"></script>', "another origin"),
        ('<link rel="stylesheet" href="//fonts.example.org/f.css">', "another origin"),
        ('<img src="http://tracker.example.org/p.gif">', "another origin"),
    ],
)
def test_a_page_breaking_the_rules_fails_the_build(tmp_path: Path, html: str, problem: str) -> None:
    page = tmp_path / "index.html"
    page.write_text(
        f'<!doctype html><html><head><meta charset="utf-8"></head><body>{html}</body></html>'
    )
    with pytest.raises(PageSecurityError, match=problem):
        secure_page(page, None)


def test_inline_styles_are_hashed_not_allowed_wholesale(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text(
        '<html><head><meta charset="utf-8"><style>p{color:red}</style></head>'
        '<body><td style="text-align: left;">x</td><script>go()</script></body>'
        "</html>"
    )
    scan = scan_page(page.read_text())
    assert scan.scripts == ["go()"] and scan.styles == ["p{color:red}"]
    secure_page(page, "https://gw.example.org")
    policy = policy_of(page)
    assert "'unsafe-hashes'" in policy["style-src"] and len(policy["style-src"]) == 4
    assert policy["connect-src"] == ["'self'"]  # not a crypto page: no gateway
    with pytest.raises(PageSecurityError, match="already has"):
        secure_page(page, None)


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://gw.example.org", "https://gw.example.org"),
        ("https://gw.example.org:443/api/", "https://gw.example.org"),
        ("https://gw.example.org:8443", "https://gw.example.org:8443"),
        ("http://127.0.0.1:8700", "http://127.0.0.1:8700"),
        ("http://localhost:8700", "http://localhost:8700"),
        ("http://[::1]:8700", "http://[::1]:8700"),
    ],
)
def test_gateway_origin(url: str, origin: str) -> None:
    assert gateway_origin(url) == origin


@pytest.mark.parametrize(
    "url",
    [
        "http://gw.example.org",
        "ftp://gw.example.org",
        "https://",
        "https://gw.example.org/?a=1",
        "https://user@gw.example.org",
        "gw.example.org",
        "https://gw.example.org:99999",
    ],
)
def test_unsafe_gateway_urls_are_refused(url: str) -> None:
    with pytest.raises(BrowserAssetsError):
        gateway_origin(url)


def test_cli_refuses_a_plain_http_gateway(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lianxin_cli",
            "publish",
            "--db",
            str(tmp_path / "x.sqlite"),
            "--keys",
            str(tmp_path),
            "--out",
            str(tmp_path / "site"),
            "--gateway-url",
            "http://gw.example.org",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2 and "use https" in result.stderr


def test_config_taxonomy_and_libsodium(site: tuple[Path, Path]) -> None:
    root, keys_dir = site
    config = json.loads((root / "portal.json").read_text())
    assert config == {
        "v": 1,
        "gateway_url": GATEWAY,
        "gateway_origin": "https://gw.example.org:8443",
        "publisher_fingerprint": load_keyring(keys_dir).publisher.fingerprint,
        "taxonomy": "taxonomy.json",
    }
    assert "office" not in json.dumps(config)  # the office key comes only from keys.json
    tax = load_taxonomy()
    doc = json.loads((root / "taxonomy.json").read_text())
    assert doc["problem_types"]["version"] == tax.problem_types.version
    assert [p["code"] for p in doc["problem_types"]["items"]] == list(tax.problem_types.codes())
    assert [r["code"] for r in doc["ranks"]["items"]] == list(tax.ranks.codes())
    assert [r["code"] for r in doc["regions"]["items"]] == list(tax.regions.codes())
    npm = ROOT / "node_modules"
    core = (npm / "libsodium/dist/modules-esm/libsodium.mjs").read_bytes()
    assert (root / "js/vendor/libsodium.mjs").read_bytes() == core
    wrappers = (npm / "libsodium-wrappers/dist/modules-esm/libsodium-wrappers.mjs").read_bytes()
    served = (root / "js/vendor/libsodium-wrappers.mjs").read_bytes()
    assert served.replace(b'from"./libsodium.mjs"', b'from"libsodium"') == wrappers
    for script in (ROOT / "portal/js").iterdir():
        assert (root / "js" / script.name).read_bytes() == script.read_bytes()


def test_a_build_without_libsodium_fails_clearly(tmp_path: Path) -> None:
    init_keys(tmp_path / "keys")
    connect(tmp_path / "db.sqlite").conn.close()
    with pytest.raises(BrowserAssetsError, match="npm ci"):
        publish(
            PublishSettings(
                tmp_path / "db.sqlite",
                tmp_path / "keys",
                tmp_path / "site",
                date(2026, 11, 23),
                node_modules=tmp_path / "nothing",
            )
        )
    assert not (tmp_path / "site").exists()
