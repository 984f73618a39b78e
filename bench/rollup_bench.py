"""Figures rolled up (issue 15): one upper office with 100 child offices, each a small register
with its published releases. How long it takes to collect every child's release over HTTP
(verified against the directory's pinned keys and the signed manifest) and to build the roll-up
page (verified again from the cache, summed, and rendered to Markdown in both languages).

Each child is a synthetic register (``desk.synth``) of ``--cases`` cases over three months,
released by the real publisher's statistics step (``ensure_releases`` and ``write_downloads``),
with its published keys, its signed office card and a signed manifest over those files: what
``lianxin publish`` writes, without the HTML pages that the roll-up never reads. One loopback
HTTP server serves every child at ``/<office id>/``. The upper office is a test office whose
directory pins each child's card (``link_office``). Everything is built afresh in ``--dir`` on
each run (the cards name the server's port); the setup time is printed apart.

    .venv/bin/python bench/rollup_bench.py [--children 100] [--cases 80] [--dir var/bench/rollup]
        [--full]   # also a full `lianxin publish` of the upper office (MkDocs, both languages)
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jinja2  # noqa: E402

from desk.context import open_desk  # noqa: E402
from desk.officers import new_officer  # noqa: E402
from desk.offices import init_identity, link_office  # noqa: E402
from desk.registry import init_office  # noqa: E402
from desk.synth import synthesize_register  # noqa: E402
from lianxin.domain.datafiles import load_taxonomy  # noqa: E402
from lianxin.domain.outcomes import load_outcomes  # noqa: E402
from lianxin.domain.workdays import FixedClock  # noqa: E402
from lianxin.keys import (  # noqa: E402
    export_published,
    fingerprint,
    init_keys,
    init_office_signer,
    load_keyring,
    load_publisher_signer,
)
from lianxin.offices.card import sign_card  # noqa: E402
from lianxin.offices.identity import Identity, own_card  # noqa: E402
from lianxin.store.db import connect  # noqa: E402
from publisher.build import Build, PublishSettings, publish  # noqa: E402
from publisher.children import collect_children, directory_children  # noqa: E402
from publisher.downloads import write_downloads  # noqa: E402
from publisher.manifest import write_manifest  # noqa: E402
from publisher.rolluppage import rollup_page  # noqa: E402
from publisher.serve import make_server  # noqa: E402
from publisher.statistics import ensure_releases  # noqa: E402
from publisher.tables import table_specs  # noqa: E402

TODAY, START, MONTHS = date(2026, 12, 3), "2026-09", 3
PHRASE = "bench passphrase of the upper office"


def make_child(root: Path, office_id: str, n: int, seed: int, url: str) -> None:
    """A child office's published releases under ``root/site``."""
    keys, db_path, site = root / "keys", root / "lianxin.sqlite", root / "site"
    init_keys(keys)
    init_office_signer(keys)  # what `lianxin office init` creates
    synthesize_register(db_path, n, seed=seed, start_month=START, months=MONTHS, today=TODAY)
    taxonomy, outcomes = load_taxonomy(), load_outcomes()
    db = connect(db_path)
    try:
        releases = ensure_releases(db, TODAY, taxonomy, outcomes, threshold=10)
    finally:
        db.conn.close()
    write_downloads(site / "data", table_specs(taxonomy, outcomes), releases)
    export_published(keys, site / "keys.json")
    identity = Identity(office_id, f"{office_id} 纪委监委", "county", "330100",
                        f"{url}/gateway", url, "city")  # fmt: skip
    data, sig = sign_card(own_card(identity, keys, TODAY.isoformat()), load_publisher_signer(keys))
    (site / "office.json").write_bytes(data)
    (site / "office.json.sig").write_text(sig + "\n")
    write_manifest(site, load_publisher_signer(keys), TODAY.isoformat())


def make_city(root: Path, base: str, children: list[str]) -> Path:
    """The upper office: a test office whose directory pins every child."""
    root.mkdir(parents=True, exist_ok=True)
    keys, db = root / "keys", root / "lianxin.sqlite"
    init_keys(keys)
    admin = new_officer("admin", "管理员", "office.letters", ("administrator",), PHRASE)
    connect(db).conn.close()  # a new, empty store
    desk = open_desk(db, officer=admin.unlocked, clock=FixedClock(TODAY))
    try:
        init_office(desk, admin, kind="test")
        city = Identity("city", "市纪委监委", "city", "330100", f"{base}/city/gateway",
                        f"{base}/city", None)  # fmt: skip
        init_identity(desk, city, keys)
        for office_id in children:
            child_keys = root.parent / office_id / "keys"
            fp = fingerprint(load_keyring(child_keys).publisher.public_key)
            link_office(desk, f"{base}/{office_id}", "child", fp)
    finally:
        desk.close()
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=100)
    parser.add_argument("--cases", type=int, default=80, help="Cases per child register.")
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "bench" / "rollup")
    parser.add_argument("--full", action="store_true", help="Also time a full lianxin publish.")
    args = parser.parse_args()
    work: Path = args.dir / f"{args.children}x{args.cases}"
    served = work / "served"  # /<office id>/ -> that child's site
    ids = [f"county-{i:03d}" for i in range(args.children)]
    server = make_server(served)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    started = time.perf_counter()
    shutil.rmtree(work, ignore_errors=True)  # the cards name this run's port: built afresh
    for n, office_id in enumerate(ids):
        make_child(work / office_id, office_id, args.cases, n, f"{base}/{office_id}")
        served.mkdir(parents=True, exist_ok=True)
        (served / office_id).symlink_to(work / office_id / "site")
    city_db = make_city(work / "city", base, ids)
    setup = time.perf_counter() - started

    db = connect(city_db)
    children = directory_children(db)
    cache = work / "city" / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    started = time.perf_counter()
    outcomes = collect_children(children, cache)
    collect = time.perf_counter() - started
    refused = [o for o in outcomes if o.refused]

    settings = PublishSettings(city_db, work / "city" / "keys", work / "city" / "site", TODAY,
                               children_cache=cache)  # fmt: skip
    page_work = work / "city" / "page"
    shutil.rmtree(page_work, ignore_errors=True)
    build = Build(settings, page_work, db)
    build.docs.mkdir(parents=True)
    started = time.perf_counter()
    rollup_page(build)
    env = jinja2.Environment(  # as the build renders its templates
        loader=jinja2.FileSystemLoader(ROOT / "portal" / "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
    )
    sizes = []
    for lang in ("zh", "en"):
        text = env.get_template(f"rollup.{lang}.md.j2").render(**build.context)
        (build.docs / f"rollup.{lang}.md").write_text(text, encoding="utf-8")
        sizes.append(len(text.encode()))
    page = time.perf_counter() - started
    db.conn.close()
    full = None
    if args.full:  # the whole portal, MkDocs and all, with the roll-up page in both languages
        started = time.perf_counter()
        publish(settings)
        full = time.perf_counter() - started
    server.shutdown()
    context = build.context["rollup"]
    print(f"rollup_bench: {args.children} child offices x {args.cases} cases, month "
          f"{context['month']}; {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"  setup (children released and signed, directory pinned): {setup:.1f} s")
    each = 1000 * collect / len(children)
    print(f"  collect every child's release over HTTP, verified and cached: {collect:.2f} s"
          f" ({each:.1f} ms a child, {len(refused)} refused)")  # fmt: skip
    print(
        f"  build the roll-up page (verify the cache again, sum, render zh and en): "
        f"{page:.2f} s; {len(context['columns'])} children rolled up, "
        f"{len(context['tables'])} tables, Markdown {sizes[0] // 1024} + {sizes[1] // 1024} KiB"
    )
    if full is not None:
        html = (settings.out / "rollup" / "index.html").stat().st_size // 1024
        print(f"  full lianxin publish of the upper office with the roll-up (MkDocs, zh and en):"
              f" {full:.1f} s; rollup/index.html {html} KiB")  # fmt: skip
    print(
        f"  command: .venv/bin/python bench/rollup_bench.py --children {args.children}"
        f" --cases {args.cases}{' --full' if args.full else ''}"
    )


if __name__ == "__main__":
    main()
