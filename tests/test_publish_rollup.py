"""Figures rolled up (issue 15): a city publishes its counties' figures beside its own, taken
from the counties' signed releases, verified against its directory; the sums equal what the
counties published; a child release with a bad signature, an unknown key or an altered file is
refused and the page says so; and over random registers no suppressed child value can be
worked out from the roll-up."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
import pytest
from desk_support import make_desk, new_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from publish_support import insert_cases, lists, reader_equations, recoverable, specs
from test_publish_statistics import _register, _row

from desk.offices import init_identity, link_office
from lianxin.keys import (
    export_published,
    fingerprint,
    init_keys,
    load_keyring,
    load_publisher_signer,
)
from lianxin.offices.identity import Identity
from lianxin.protocol.encoding import b64e, lp
from lianxin.store.db import connect
from publisher.build import Build, PublishSettings, publish
from publisher.children import cached_releases, collect_children, directory_children
from publisher.downloads import write_downloads
from publisher.manifest import MANIFEST_DOMAIN, verify_site
from publisher.rollup import audit_child, month_values, roll_up
from publisher.rolluppage import rollup_page
from publisher.serve import make_server
from publisher.statistics import ensure_releases
from publisher.tables import TOTAL, TableSpec

TODAY = date(2026, 11, 23)
DAY = date(2026, 11, 2)
MONTH = "2026-10"
ROOT = Path(__file__).resolve().parent.parent


def _cases(seed: int, n: int) -> list[dict[str, Any]]:
    """A county's register: ``n`` cases over September to November, walked to random steps."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        spec = {
            "month": rng.choice(("2026-09", "2026-10", "2026-10", "2026-11")),
            "day": rng.randint(1, 28),
            "channel": rng.choice(("letter", "visit", "online", "online", "phone")),
            "registered": rng.random() < 0.9,
            "item_type": rng.choice(("accusation", "accusation", "appeal", "out_of_scope")),
            "problem": rng.choice(("integrity", "mass", "legal.embezzlement_bribery")),
            "rank": rng.choice(("township_section", "village_community")),
            "region": rng.choice(("county", "town.dongshan", "town.xihe")),
            "progress": rng.choice(("accepted", "in_progress", "concluded", "answered")),
            "delays": [rng.randint(0, 30) for _ in range(4)],
            "rating": rng.choice((None, "satisfied", "basically", "not")),
            "real_name": rng.choice(("anonymous", "verified")),
            "tag": rng.choice((None, None, "livelihood")),
        }
        out.append(_row(spec))
    return out


@dataclass(frozen=True)
class Office:
    office_id: str
    root: Path
    keys: Path
    db: Path
    site: Path
    url: str

    @property
    def publisher_fp(self) -> str:
        return fingerprint(load_keyring(self.keys).publisher.public_key)


def _office(root: Path, office_id: str, level: str, parent: str | None, url: str) -> Office:
    root.mkdir(parents=True)
    keys, db, site = root / "keys", new_store(root / "lianxin.sqlite"), root / "site"
    init_keys(keys)
    desk = make_desk(db, DAY, officer="admin")
    try:
        identity = Identity(office_id, f"{office_id} 纪委监委", level, "330100",
                            f"{url}/gateway", url, parent)  # fmt: skip
        init_identity(desk, identity, keys)
    finally:
        desk.close()
    return Office(office_id, root, keys, db, site, url)


@pytest.fixture(scope="module")
def counties(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Office]]:
    """Two counties, each with its own keys, store and published site, served on loopback."""
    tmp = tmp_path_factory.mktemp("counties")
    servers, offices = [], []
    for n, office_id in enumerate(("county-a", "county-b")):
        site = tmp / office_id / "site"
        server = make_server(site)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        office = _office(tmp / office_id, office_id, "county", "city", url)
        insert_cases(office.db, _cases(seed=n, n=160 + 90 * n))
        publish(PublishSettings(office.db, office.keys, office.site, TODAY))
        offices.append(office)
    yield offices
    for server in servers:
        server.shutdown()
        server.server_close()


def _release(site: Path) -> dict[str, dict[str, Any]]:
    records = json.loads((site / "data" / "releases" / f"{MONTH}.json").read_text("utf-8"))
    return month_values(records, MONTH)


def _city(tmp: Path, counties: list[Office]) -> Office:
    city = _office(tmp / "city", "city", "city", None, "http://127.0.0.1:9/")
    desk = make_desk(city.db, DAY, officer="admin")
    for county in counties:  # pinned by the fingerprint read off the county's keys
        link_office(desk, county.url, "child", county.publisher_fp)
    desk.close()
    return city


@pytest.mark.slow  # three MkDocs builds
def test_the_city_rolls_up_what_the_counties_published(
    counties: list[Office], tmp_path: Path
) -> None:
    city = _city(tmp_path, counties)
    ids = insert_cases(city.db, _cases(seed=7, n=60))
    # 12 escalated reports of October assigned down to county A; 10 of its assigned cases fell
    # due in October, all concluded by then (the rows the assigning step writes).
    with sqlite3.connect(city.db) as conn:
        for n, case_id in enumerate(ids[:12]):
            day = f"{MONTH}-{n + 1:02d}"
            conn.execute("UPDATE cases SET escalated = 1, received_date = ?, concluded_date = ?"
                         " WHERE id = ?", [day, f"{MONTH}-20", case_id])  # fmt: skip
            due = f"{MONTH}-25" if n < 10 else "2026-12-01"
            conn.execute("INSERT INTO case_links (case_id, office_id, role, link, due_date)"
                         " VALUES (?, 'county-a', 'upper', ?, ?)", [case_id, n, due])  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "lianxin_cli", "publish", "--db", str(city.db), "--keys",
         str(city.keys), "--out", str(city.site), "--today", TODAY.isoformat(), "--children"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "collected county-a: 2 month(s)" in done.stderr
    assert "collected county-b: 2 month(s)" in done.stderr
    rolled = json.loads((city.site / "data" / "rollup" / f"{MONTH}.json").read_text("utf-8"))
    a, b = (_release(c.site) for c in counties)
    checked = 0
    for table, sums in rolled["sums"].items():
        assert rolled["children"]["county-a"][table] == a[table]
        assert rolled["children"]["county-b"][table] == b[table]
        for code, total in sums.items():
            terms = (a[table][code], b[table][code])
            if None in terms:
                assert total is None, (table, code)
            else:
                assert total == sum(terms), (table, code)
                checked += 1
    assert checked > 50 and "region" not in rolled["sums"]
    assert any(v is None for sums in rolled["sums"].values() for v in sums.values())
    received = a["channel"][TOTAL] + b["channel"][TOTAL]
    assert rolled["sums"]["channel"][TOTAL] == received
    # The page, in both languages, from the real MkDocs build; the site verifies.
    zh = (city.site / "rollup" / "index.html").read_text("utf-8")
    en = (city.site / "en" / "rollup" / "index.html").read_text("utf-8")
    assert "下级汇总" in zh and "county-a 纪委监委" in zh and "越级率" in zh
    assert "Lower offices rolled up" in en and "county-b 纪委监委" in en
    escalation = round(100 * 12 / (12 + a["channel"][TOTAL]), 1)
    assert f"<td>{escalation}%</td><td>100.0%</td>" in en  # county A's two rates
    assert "Child releases not taken" not in en
    statistics = (city.site / "statistics" / "index.html").read_text("utf-8")
    assert "各下级机关自行公布的数字及其合计见" in statistics
    assert verify_site(str(city.site), publisher_fingerprint=city.publisher_fp).files > 0


def _render(lang: str, context: dict[str, Any]) -> str:
    """The page's Markdown, rendered as the build renders its templates."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROOT / "portal" / "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
    )
    return env.get_template(f"rollup.{lang}.md.j2").render(**context)


def _tampered(county: Office, root: Path, how: str) -> None:
    """A copy of a county's site under ``root/<office id>``, spoiled in one way."""
    site = root / county.office_id
    shutil.copytree(county.site, site)
    manifest = site / "manifest.json"
    if how == "altered":
        release = site / "data" / "releases" / f"{MONTH}.json"
        records = json.loads(release.read_text("utf-8"))
        next(r for r in records if r["value"] is not None)["value"] += 1
        release.write_text(json.dumps(records, ensure_ascii=False, indent=1, sort_keys=True))
    elif how == "signature":
        signature = (site / "manifest.json.sig").read_text().strip()
        (site / "manifest.json.sig").write_text(
            ("A" if signature[0] != "A" else "B") + signature[1:]
        )
    elif how == "unknown key":  # a whole site re-signed by another publisher key
        other = root / "other-keys"
        init_keys(other)
        export_published(other, site / "keys.json")
        signer = load_publisher_signer(other)
        data = manifest.read_bytes()
        (site / "manifest.json.sig").write_text(b64e(signer.sign(lp(MANIFEST_DOMAIN, data))))


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("altered", f"data/releases/{MONTH}.json does not match the signed manifest"),
        ("signature", "the manifest's signature does not verify with the pinned publisher key"),
        ("unknown key", "unknown publisher key"),
    ],
)
def test_a_bad_child_release_is_refused_and_the_page_says_so(
    counties: list[Office], tmp_path: Path, how: str, message: str
) -> None:
    city = _city(tmp_path, counties)
    source = tmp_path / "children"
    shutil.copytree(counties[0].site, source / "county-a")
    _tampered(counties[1], source, how)
    db = connect(city.db)
    children = directory_children(db)
    cache = tmp_path / "cache"
    # Before anything is collected: the page says so (no month, nothing rolled up).
    before = Build(PublishSettings(city.db, city.keys, city.site, TODAY, children_cache=cache),
                   tmp_path / "before", db)  # fmt: skip
    before.docs.mkdir(parents=True)
    rollup_page(before)
    assert before.context["rollup"]["month"] is None
    assert "Nothing rolled up yet" in _render("en", before.context)
    assert "not collected yet" in _render("zh", before.context)
    outcomes = collect_children(children, cache, source=source)
    assert [(o.office_id, o.refused is None) for o in outcomes] == [
        ("county-a", True),
        ("county-b", False),
    ]
    assert message in str(outcomes[1].refused)
    assert not (cache / "county-b").exists()
    build = Build(PublishSettings(city.db, city.keys, city.site, TODAY, children_cache=cache),
                  tmp_path / "work", db)  # fmt: skip
    build.docs.mkdir(parents=True)
    rollup_page(build)
    db.conn.close()
    context = build.context["rollup"]
    assert [c["id"] for c in context["columns"]] == ["county-a"]
    assert "未采用的下级发布" in _render("zh", build.context)
    assert str(escape(message)) in _render("en", build.context)  # names the child and why
    assert [(o["office_id"], message in o["refused"]) for o in context["left_out"]] == [
        ("county-b", True)
    ]
    # A cached copy edited afterwards is refused again at the next build.
    release = cache / "county-a" / "data" / "releases" / f"{MONTH}.json"
    release.write_bytes(release.read_bytes() + b" ")
    taken, left = cached_releases(children, cache)
    assert taken == [] and "does not match the signed manifest" in str(left[0].refused)


# --- the property: nothing suppressed in a child is recoverable from the roll-up ---------------


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "empty.sqlite"
    connect(path).conn.close()
    return path


def _published(tmp: Path, register: list[tuple[dict[str, Any], int]], threshold: int) -> Path:
    """A child's statistics release files, from its register, as its publisher writes them."""
    db_path = tmp / "db.sqlite"
    insert_cases(db_path, [_row(spec) for spec, n in register for _ in range(n)])
    db = connect(db_path)
    try:
        releases = ensure_releases(db, TODAY, *lists(), threshold=threshold)
    finally:
        db.conn.close()
    write_downloads(tmp / "data", specs(), releases)
    return tmp / "data" / "releases"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    registers=st.lists(_register, min_size=2, max_size=3),
    threshold=st.sampled_from((3, 5, 10)),
)
def test_no_suppressed_child_value_is_recoverable_from_the_rollup(
    registers: list[list[tuple[dict[str, Any], int]]], threshold: int, empty_store: Path
) -> None:
    tables = specs()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        released: dict[str, dict[str, list[dict[str, Any]]]] = {}  # month -> child -> records
        for n, register in enumerate(registers):
            (tmp / f"c{n}").mkdir()
            shutil.copy(empty_store, tmp / f"c{n}" / "db.sqlite")
            for path in _published(tmp / f"c{n}", register, threshold).glob("*.json"):
                released.setdefault(path.stem, {})[f"c{n}"] = json.loads(path.read_text("utf-8"))
    for month, children in released.items():
        _check_month(month, children, tables)


def _check_month(
    month: str, children: dict[str, list[dict[str, Any]]], tables: tuple[TableSpec, ...]
) -> None:
    values = {cid: month_values(records, month) for cid, records in children.items()}
    for child in values.values():
        assert audit_child(child, tables) == []  # each child protected its own release
    rolled = roll_up(tables, {}, values)
    # What a reader has: every child's published records, its equations, and the roll-up.
    records: list[dict[str, Any]] = []
    equations: list[dict[tuple[str, str], int]] = []
    for cid, child in children.items():
        records += [{**r, "table": f"{cid}:{r['table']}"} for r in child]
        for eq in reader_equations(child, tables):
            equations.append({(f"{cid}:{t}", c): k for (t, c), k in eq.items()})
    for table in rolled:
        assert set(table.children) == set(children)
        for code, total in table.sums.items():
            records.append({"table": f"Σ:{table.spec.name}", "category": code, "value": total})
            eq = {(f"Σ:{table.spec.name}", code): 1}
            for cid in table.children:
                eq[(f"{cid}:{table.spec.name}", code)] = -1
            equations.append(eq)
            terms = [values[cid][table.spec.name].get(code) for cid in table.children]
            assert total == (None if None in terms else sum(terms)), (month, table, code)
    found = [v for v in recoverable(records, equations) if not v[0].startswith("Σ:")]
    assert found == [], (month, found)
