"""The built site gives nothing away: canaries from real reports, no request to another origin,
differencing between builds, and clear failures (bad leaders file, bad settings) that leave the
published site alone. Every test builds a real site with MkDocs (strict)."""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
from collections.abc import Callable
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from conftest import ROOT, GatewayProcess
from desk_support import OFFICER, TEST_OFFICERS, make_desk, office_keys
from publish_support import insert_cases
from support import post, report_doc, sealed_report

from desk.answers import conclude
from desk.deadlines import Manual
from desk.inbox import mark_opened, read_inbox
from desk.register import Registration, register
from desk.routing import Route, route
from lianxin.keys import Keyring
from lianxin.protocol import Token
from lianxin.store.db import connect
from publisher.build import PublishSettings, publish
from publisher.errors import LeadersFileError, PublisherError
from publisher.manifest import verify_site

NOVEMBER = date(2026, 11, 23)
DECEMBER = date(2026, 12, 7)  # November closed: the canary cases are in a released month


def _files(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*") if p.is_file())


def _spellings(text: str) -> set[bytes]:
    out: set[bytes] = set()
    for spelling in {text, text.lower(), text.upper()}:
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            out.add(spelling.encode(encoding))
    return out


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _theme_files() -> set[str]:
    """Digests of the files shipped with MkDocs Material (copied unchanged into every site)."""
    import material

    root = Path(material.__file__).parent
    return {_digest(p) for p in root.rglob("*") if p.is_file()}


def _token_forms(token: str) -> set[str]:
    grouped = str(Token.parse(token))
    flat = grouped.replace("-", "")
    return {grouped, flat, flat[:-1], " ".join(grouped.split("-"))}


def _background(db_path: Path, month: str, n: int) -> None:
    """Ordinary cases, so the canaries' month has figures that are published."""
    insert_cases(db_path, [{"channel": "online", "received_date": f"{month}-{1 + i % 27:02d}",
                            "registered_date": f"{month}-{1 + i % 27:02d}", "number": "x",
                            "item_type": "accusation", "problem_type": "integrity",
                            "rank": "general_cadre", "region": "county", "real_name": "anonymous",
                            "state": "accepted", "accepted_date": f"{month}-{1 + i % 27:02d}"}
                           for i in range(n)])  # fmt: skip


# --- canaries ------------------------------------------------------------------------------------


def test_no_marker_token_officer_or_address_in_the_site(
    start_gateway: Callable[..., GatewayProcess], keyring: Keyring, keys_dir: Path, tmp_path: Path
) -> None:
    gateway = start_gateway("--today", NOVEMBER.isoformat())  # the desk's days, not the machine's
    markers = [f"CANARY{secrets.token_hex(6)}" for _ in range(4)]
    officer = TEST_OFFICERS[OFFICER][0]  # the display name must not reach the site
    tokens: list[str] = []
    for n, marker in enumerate(markers):
        doc = report_doc(marker, real_name=n % 2 == 0)
        doc["reported"]["name"] = f"张{marker}"
        envelope = sealed_report(keyring, doc)
        answer = post(gateway.url, "/v1/reports", envelope)
        assert answer.status_code == 201, answer.text
        tokens.append(answer.json()["token"])
    gateway.stop()  # the desk works on the same store; the gateway's part is done

    desk = make_desk(gateway.db_path, date(2026, 11, 24))
    keys = office_keys(keys_dir)
    try:
        opened = mark_opened(desk, read_inbox(desk, keys))
        assert len(opened) == len(markers)
        for n, item in enumerate(opened):
            assert markers[n] in item.doc["text"]
            register(
                desk,
                item.case_id,
                Registration(
                    item_type="accusation",
                    problem_type="legal.embezzlement_bribery",
                    rank="township_section",
                    region="town.dongshan",
                    real_name="verified" if n % 2 == 0 else "anonymous",
                    add_tags=("livelihood",),
                ),
            )
            route(
                desk,
                item.case_id,
                Route("assign", unit="town.dongshan", manual=Manual.parse(30, "working")),
            )
            if n < 2:  # answered: the answer text (with the marker) is sealed into the status
                conclude(
                    desk, item.case_id, keys, "substantiated", answer=f"经核查属实。{markers[n]}"
                )
    finally:
        desk.close()
    _background(gateway.db_path, "2026-11", 30)

    site = tmp_path / "site"
    publish(PublishSettings(gateway.db_path, keys_dir, site, DECEMBER))
    needles: dict[str, str] = {f"marker {m}": m for m in markers}
    for n, token in enumerate(tokens):
        needles.update({f"token {n}: {form}": form for form in _token_forms(token)})
    needles["officer"] = officer
    needles["client address"] = "127.0.0.1"
    patterns = [(label, p) for label, text in needles.items() for p in _spellings(text)]
    files = _files(site)
    theme = _theme_files()
    found = sorted({f"{path.relative_to(site)}: {label}" for path in files
                    for label, pattern in patterns if pattern in path.read_bytes()
                    # Material's own unchanged files mention 127.0.0.1 in a code comment.
                    and not (label == "client address" and _digest(path) in theme)})  # fmt: skip
    assert found == []
    # Positive controls: the scan reads what the build wrote, and the cases were published.
    everything = b"".join(p.read_bytes() for p in files)
    assert keyring.current_office.key_id.encode() in everything
    assert (site / "data" / "releases" / "2026-11.json").is_file()
    from lianxin.status import read_status

    status = read_status(str(site), Token.parse(tokens[0]))
    assert status is not None and status.status["state"] == "answered"
    # The title (with its marker) is published, but only sealed to the token: "what you sent".
    assert [(s["kind"], s["title"]) for s in status.sent] == [
        ("report", f"工程款问题 {markers[0]}")
    ]


# --- no request to another origin ----------------------------------------------------------------


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lianxin.keys import init_keys

    tmp = tmp_path_factory.mktemp("site")
    init_keys(tmp / "keys")
    _background(tmp / "db.sqlite", "2026-10", 40)
    publish(PublishSettings(tmp / "db.sqlite", tmp / "keys", tmp / "site", NOVEMBER))
    return tmp / "site"


_LOADS = {  # tag: attributes a browser fetches without the user doing anything
    "script": ("src",), "img": ("src", "srcset"), "iframe": ("src",), "frame": ("src",),
    "source": ("src", "srcset"), "video": ("src", "poster"), "audio": ("src",),
    "track": ("src",), "embed": ("src",), "object": ("data",), "input": ("src",),
    "image": ("href", "xlink:href"), "use": ("href", "xlink:href"), "feimage": ("href",),
}  # fmt: skip
_LINK_LOADS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "preload", "modulepreload",
               "prefetch", "manifest", "dns-prefetch", "preconnect", "mask-icon"}  # fmt: skip
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.I)
_JS_URL = re.compile(
    r"""(?:\bimport\s*\(?\s*|\bfrom\s+|\bfetch\s*\(\s*|\bnew\s+URL\s*\(\s*|\bimportScripts\s*\(\s*"""
    r"""|\bnew\s+(?:Shared)?Worker\s*\(\s*|\bnew\s+EventSource\s*\(\s*|\bnew\s+WebSocket\s*\(\s*)"""
    r"""['"`]([^'"`]+)['"`]"""
)


def _external(url: str) -> bool:
    """A URL that names another origin (this site is served from anywhere, so any origin)."""
    url = url.strip()
    parts = urlsplit(url)
    return url.startswith("//") or parts.scheme.lower() in ("http", "https", "ws", "wss", "ftp")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[str] = []
        self.links: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        for name in _LOADS.get(tag, ()):
            if name in values:
                urls = [u.split()[0] for u in values[name].split(",") if u.strip()]
                self.loads += urls if name == "srcset" else [values[name]]
        if tag == "link":
            rels = set(values.get("rel", "").lower().split())
            (self.loads if rels & _LINK_LOADS else self.links).append(values.get("href", ""))
        if tag in ("a", "area", "form"):
            self.links.append(values.get("href", values.get("action", "")))
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            self.links.append(values.get("content", ""))
        if "style" in values:
            self.styles.append(values["style"])
        self._in_style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False


def test_the_site_loads_nothing_from_another_origin(built_site: Path) -> None:
    loads: list[str] = []
    navigation: list[str] = []
    for path in _files(built_site):
        where = str(path.relative_to(built_site))
        if path.suffix in (".html", ".svg"):
            collector = _Collector()
            collector.feed(path.read_text(encoding="utf-8"))
            loads += [f"{where}: {u}" for u in collector.loads if _external(u)]
            navigation += [f"{where}: {u}" for u in collector.links if _external(u)]
            for css in collector.styles:
                loads += [f"{where}: {u}" for m in _CSS_URL.finditer(css) for u in m.groups()
                          if u and _external(u)]  # fmt: skip
        elif path.suffix == ".css":
            text = path.read_text(encoding="utf-8", errors="replace")
            loads += [f"{where}: {u}" for m in _CSS_URL.finditer(text) for u in m.groups()
                      if u and _external(u)]  # fmt: skip
        elif path.suffix in (".js", ".mjs"):
            text = path.read_text(encoding="utf-8", errors="replace")
            loads += [f"{where}: {m[1]}" for m in _JS_URL.finditer(text) if _external(m[1])]
    assert loads == []
    # Plain links are navigation, not loads; they are listed so a reviewer sees them.
    print("external navigation links:", sorted(set(navigation)))


def test_the_scanner_catches_what_it_must() -> None:
    page = ('<link rel="stylesheet" href="https://cdn.example/x.css"><img srcset="a.png 1x, '
            '//cdn.example/b.png 2x"><div style="background:url(https://t.example/p.gif)">'
            '<a href="https://example.org/">ok</a>')  # fmt: skip
    collector = _Collector()
    collector.feed(page)
    assert [u for u in collector.loads if _external(u)] == [
        "https://cdn.example/x.css", "//cdn.example/b.png"]  # fmt: skip
    assert collector.links == ["https://example.org/"]
    assert _CSS_URL.search(collector.styles[0])
    js = 'import x from "https://esm.example/m.js"; fetch(`https://t.example`); new URL("./a", b)'
    assert [m[1] for m in _JS_URL.finditer(js) if _external(m[1])] == [
        "https://esm.example/m.js", "https://t.example"]  # fmt: skip


def test_material_is_configured_without_remote_fonts_repo_or_analytics() -> None:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)  # !!python/name etc.
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)
    assert config["theme"]["font"] is False
    for key in ("repo_url", "repo_name", "edit_uri", "google_analytics"):
        assert key not in config, key
    assert "analytics" not in (config.get("extra") or {})


# --- differencing between builds -----------------------------------------------------------------


def test_a_rebuild_after_new_cases_changes_no_published_month(
    tmp_path: Path, keys_dir: Path
) -> None:
    db_path = tmp_path / "db.sqlite"
    _background(db_path, "2026-09", 35)
    _background(db_path, "2026-10", 28)
    _background(db_path, "2026-11", 12)
    settings = PublishSettings(db_path, keys_dir, tmp_path / "site", NOVEMBER)
    publish(settings)
    data = tmp_path / "site" / "data"
    before = {p.relative_to(data): p.read_bytes() for p in data.rglob("*.json")}
    page = (tmp_path / "site" / "statistics" / "index.html").read_bytes()
    assert sorted(p.name for p in (data / "releases").iterdir()) == ["2026-09.json", "2026-10.json"]
    # One more case in a closed month, one in the current month.
    insert_cases(db_path, [{"channel": "visit", "received_date": "2026-10-30"},
                           {"channel": "visit", "received_date": "2026-11-20"}])  # fmt: skip
    publish(settings)
    after = {p.relative_to(data): p.read_bytes() for p in data.rglob("*.json")}
    assert after == before
    assert (tmp_path / "site" / "statistics" / "index.html").read_bytes() == page
    assert b"2026-11" not in page


# --- clear failures, the published site untouched ------------------------------------------------


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[PublishSettings, bytes]:
    """A site built from an empty store; the failing builds below must leave it as it is."""
    from lianxin.keys import init_keys

    tmp = tmp_path_factory.mktemp("published")
    init_keys(tmp / "keys")
    connect(tmp / "db.sqlite").conn.close()
    settings = PublishSettings(tmp / "db.sqlite", tmp / "keys", tmp / "site", NOVEMBER)
    publish(settings)
    return settings, (tmp / "site" / "manifest.json").read_bytes()


def _untouched(settings: PublishSettings, manifest: bytes) -> None:
    assert (settings.out / "manifest.json").read_bytes() == manifest
    assert [p.name for p in settings.out.parent.iterdir() if p.name.startswith(".site.")] == []


def test_empty_database_gives_a_valid_site(published: tuple[PublishSettings, bytes]) -> None:
    settings, _ = published
    site = settings.out
    verify_site(str(site))
    assert "暂无数据" in (site / "statistics" / "index.html").read_text()
    assert "No figures yet" in (site / "en" / "statistics" / "index.html").read_text()
    assert "林示范" in (site / "leaders" / "index.html").read_text()
    assert (site / "leaders.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda t: t.replace("day: 15", "day: 31"), r"leaders\.yaml:\d+: leaders\[0\]\.schedule"),
        (lambda t: t.replace("    phone: 0000-5550102\n", ""), r":\d+: leaders\[1\]\.phone"),
        (lambda t: t.replace("    name: 高演示\n", "    name: 高演示\n    photo: nope/gao.jpg\n"),
         r"leaders\.yaml:\d+: leaders\[2\]\.photo: no file nope/gao\.jpg"),
    ],
)  # fmt: skip
def test_bad_leaders_file_stops_the_build(
    published: tuple[PublishSettings, bytes], tmp_path: Path, change: object, where: str
) -> None:
    settings, manifest = published
    bad = tmp_path / "leaders.yaml"
    source = (ROOT / "portal" / "data" / "leaders.yaml").read_text(encoding="utf-8")
    text = change(source)  # type: ignore[operator]
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(LeadersFileError, match=where) as failure:
        publish(PublishSettings(**{**vars(settings), "leaders_file": bad}))
    assert str(bad) in str(failure.value)
    if "nope" in where:  # the line of the photo that is missing
        lines = text.splitlines()
        assert failure.value.line == next(n for n, x in enumerate(lines, 1) if "nope/" in x)
    _untouched(settings, manifest)


def test_photo_in_the_portal_is_shown(tmp_path: Path, keys_dir: Path) -> None:
    portal = tmp_path / "portal"
    shutil.copytree(ROOT / "portal", portal, ignore=shutil.ignore_patterns("node_modules"))
    (portal / "docs" / "assets" / "leaders").mkdir(parents=True)
    (portal / "docs" / "assets" / "leaders" / "lin.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    leaders = portal / "data" / "leaders.yaml"
    text = leaders.read_text(encoding="utf-8")
    leaders.write_text(
        text.replace("    name: 林示范\n", "    name: 林示范\n    photo: assets/leaders/lin.png\n")
    )
    connect(tmp_path / "db.sqlite").conn.close()
    publish(PublishSettings(tmp_path / "db.sqlite", keys_dir, tmp_path / "site", NOVEMBER,
                            portal_dir=portal))  # fmt: skip
    page = (tmp_path / "site" / "leaders" / "index.html").read_text()
    assert 'src="../assets/leaders/lin.png"' in page
    assert (tmp_path / "site" / "assets" / "leaders" / "lin.png").is_file()


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"threshold": 0}, "threshold"), ({"dp_epsilon": float("nan")}, "epsilon")],
)
def test_bad_settings_stop_the_build(
    published: tuple[PublishSettings, bytes], changes: dict[str, object], message: str
) -> None:
    settings, manifest = published
    with pytest.raises(PublisherError, match=message):
        publish(PublishSettings(**{**vars(settings), **changes}))  # type: ignore[arg-type]
    _untouched(settings, manifest)


def test_leaders_page_and_calendar(built_site: Path) -> None:
    from icalendar import Calendar

    page = (built_site / "leaders" / "index.html").read_text()
    english = (built_site / "en" / "leaders" / "index.html").read_text()
    for name in ("林示范", "周样例", "高演示"):
        assert name in page and name in english
    assert "2026-12-15" in page  # the next 15th (a Tuesday)
    assert "every Tuesday" in english and "monthly on the 15th" in english
    calendar = Calendar.from_ical((built_site / "leaders.ics").read_bytes())
    events = [c for c in calendar.walk("VEVENT")]
    assert events and all(str(e["DTSTART"].dt.tzinfo) == "Asia/Shanghai" for e in events)
    assert min(e["DTSTART"].dt.date() for e in events) >= NOVEMBER
