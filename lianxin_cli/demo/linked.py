"""``lianxin demo --linked``: a city and two counties, each its own Lianxin (keys, gateway,
store, portal), linked by their cards; one report to the city is assigned down to county A and
comes back answered; the three portals are served."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from desk.demo_linked import Cast, create_linked_office, link, walk_linked_case
from lianxin.client import GatewayClient, load_published_keys, submit_report
from lianxin.keys import load_keyring, load_publisher_signer
from lianxin.offices.card import sign_card
from lianxin.offices.identity import Identity, own_card
from lianxin.store.db import connect

from .run import (
    DemoState,
    make_keys,
    publish_site,
    running_gateway,
    sample_reports,
    say,
    until_interrupted,
)

OFFICES = (
    ("city", "示例市纪委监委", "city", "330100", None),
    ("county-a", "示例甲县纪委监委", "county", "330101", "city"),
    ("county-b", "示例乙县纪委监委", "county", "330102", "city"),
)


@dataclass
class LinkedOffice:
    """One office of the demo."""

    identity: Identity
    state: DemoState
    site_port: int
    gateway_port: int
    cast: Cast | None = None

    @property
    def card_dir(self) -> Path:
        return self.state.root / "card"


def run_linked(
    root: Path, ports: list[tuple[int, int]], pow_difficulty: int, today: date, serve: bool
) -> None:
    """Walk the linked demo; serve the three portals until Ctrl+C when ``serve``."""
    from publisher.serve import make_server

    offices = []
    for (office_id, name, level, region, parent), (site_port, gw_port) in zip(
        OFFICES, ports, strict=True
    ):
        state = DemoState((root / office_id).resolve())
        state.root.mkdir(parents=True, exist_ok=True)
        for stale in (state.db_path, Path(f"{state.db_path}-wal"), Path(f"{state.db_path}-shm")):
            stale.unlink(missing_ok=True)
        make_keys(state)
        portal_url, gateway_url = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{gw_port}"
        identity = Identity(office_id, name, level, region, gateway_url, portal_url, parent)
        offices.append(LinkedOffice(identity, state, site_port, gw_port))
    with ExitStack() as stack:
        for office in offices:
            stack.enter_context(
                running_gateway(
                    office.state, office.gateway_port, pow_difficulty, office.identity.portal_url
                )
            )
        for office in offices:
            say(f"Office {office.identity.office_id}: {office.identity.name}")
            office.cast = create_linked_office(
                office.state.db_path, office.state.keys_dir, office.identity, today
            )
            _write_card(office, today)
        say("Linking: the city pins its two counties' cards, each county the city's")
        city, county_a, county_b = offices
        for county in (county_a, county_b):
            _link(city, county, "child", today)
            _link(county, city, "parent", today)
        say("A report to the city, through the real protocol")
        published = load_published_keys(str(city.state.published_keys))
        with GatewayClient(city.state.gateway_url) as client:
            sent = submit_report(client, published, sample_reports()[0])
        (city.state.root / "demo-tokens.txt").write_text(sent.token + "\n")
        print(f"  token {sent.token} (demo only: saved in {city.state.root / 'demo-tokens.txt'})")
        say("Assigned down to county A and back")
        assert city.cast is not None and county_a.cast is not None
        walk_linked_case(
            (city.state.db_path, city.cast),
            (county_a.state.db_path, county_a.cast),
            "county-a",
            today,
        )
        sites = [publish_site(office.state, today) for office in (county_a, county_b)]
        _collect_counties(city, [(county_a, sites[0]), (county_b, sites[1])])
        sites.insert(0, publish_site(city.state, today))
        if not serve:
            for office, site in zip(offices, sites, strict=True):
                print(f"  {office.identity.office_id}: {site}")
            return
        servers = []
        for office, site in zip(offices, sites, strict=True):
            server = make_server(site, port=office.site_port)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
            say(f"{office.identity.name}: portal {office.identity.portal_url}/")
        print(f"\nRead the answer: lianxin status --site {city.identity.portal_url} {sent.token}")
        try:
            print("\nPress Ctrl+C to stop the portals and the gateways.", flush=True)
            until_interrupted()
        except KeyboardInterrupt:
            pass
        finally:
            for server in servers:
                server.shutdown()
                server.server_close()


def _collect_counties(city: LinkedOffice, built: list[tuple[LinkedOffice, Path]]) -> None:
    """The city collects its counties' releases from their built sites, verified against the
    cards it pinned (``lianxin publish --children --children-from DIR``), for its roll-up page."""
    from publisher.children import collect_children, default_cache, directory_children

    say("The city collects its counties' published figures for its roll-up page")
    folder = city.state.root / "children-sites"
    folder.mkdir(exist_ok=True)
    for county, site in built:
        link = folder / county.identity.office_id
        if not link.exists():
            link.symlink_to(site.resolve(), target_is_directory=True)
    db = connect(city.state.db_path)
    try:
        children = directory_children(db)
    finally:
        db.conn.close()
    for outcome in collect_children(children, default_cache(city.state.db_path), source=folder):
        taken = f"refused: {outcome.refused}" if outcome.refused else f"{outcome.months} month(s)"
        print(f"  {outcome.office_id}: {taken}")


def _write_card(office: LinkedOffice, today: date) -> None:
    """The card as ``lianxin publish`` will publish it, to pin before the first publish."""
    keys = office.state.keys_dir
    card = own_card(office.identity, keys, today.isoformat())
    data, sig = sign_card(card, load_publisher_signer(keys))
    office.card_dir.mkdir(exist_ok=True)
    (office.card_dir / "office.json").write_bytes(data)
    (office.card_dir / "office.json.sig").write_text(sig + "\n")


def _link(office: LinkedOffice, other: LinkedOffice, relation: str, today: date) -> None:
    assert office.cast is not None
    fingerprint = load_keyring(other.state.keys_dir).publisher.fingerprint
    link(office.state.db_path, office.cast, other.card_dir, relation, fingerprint, today)
