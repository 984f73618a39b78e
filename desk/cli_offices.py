"""``lianxin office ...``: this office's card and the directory of linked offices, thin shells
over :mod:`desk.offices` (packages: :mod:`desk.cli_packages`)."""

from __future__ import annotations

from pathlib import Path

import click

from lianxin.keys import group_fingerprint
from lianxin.offices.card import LEVELS
from lianxin.offices.directory import RELATIONS, Entry
from lianxin.offices.identity import Identity

from .cli_common import DeskGroup, Settings, echo, with_format, with_settings
from .offices import (
    confirm_card,
    init_identity,
    link_office,
    offices,
    refresh_card,
    unlink_office,
)
from .output import emit

_DIR = click.Path(path_type=Path, file_okay=False)


@click.group("office", cls=DeskGroup)
def office_group() -> None:
    """Linked offices: this office's card, its parent and children, packages between them.

    Each portal publishes its office card (/office.json, signed by the publisher key); an
    office keeps a directory of its parent and children, each pinned by fingerprint.
    Settings as for 'lianxin desk' (--db, --officer, LIANXIN_DB, LIANXIN_OFFICER, ...).
    """


@office_group.command("init")
@with_settings
@click.option("--id", "office_id", required=True, help="This office's id (e.g. zj-hz-xihu).")
@click.option("--name", required=True, help="Its name as published.")
@click.option("--level", type=click.Choice(LEVELS), required=True, help="Its level.")
@click.option("--region", required=True, help="Its region code (6 to 12 digits).")
@click.option("--gateway-url", required=True, help="Its gateway's public URL.")
@click.option("--portal-url", required=True, help="Its portal's public URL.")
@click.option("--parent", default=None, help="The parent office's id (none for the top).")
@click.option(
    "--keys",
    "keys_dir",
    type=_DIR,
    default=None,
    help="Keys folder: create the office signing key there (once) and seal it to approvers.",
)
def init_command(
    settings: Settings,
    office_id: str,
    name: str,
    level: str,
    region: str,
    gateway_url: str,
    portal_url: str,
    parent: str | None,
    keys_dir: Path | None,
) -> None:
    """Set this office's card (the publisher publishes it at /office.json on each publish)."""
    identity = Identity(office_id, name, level, region, gateway_url, portal_url, parent)
    with settings.desk() as desk:
        kept = init_identity(desk, identity, keys_dir)
    echo(f"office {kept.office_id} ({kept.level}, {kept.region}), card version {kept.version}")


_COLUMNS = ("office", "relation", "name", "level", "region", "gateway", "version", "pending")


def _row(entry: Entry) -> dict[str, object]:
    return {
        "office": entry.office_id,
        "relation": entry.relation,
        "name": entry.card.name,
        "level": entry.card.level,
        "region": entry.card.region,
        "gateway": entry.card.gateway_url,
        "version": entry.card.version,
        "publisher_fp": entry.card.publisher_fp,
        "pending": "keys changed: confirm" if entry.pending else "",
    }


def _print(entry: Entry, verb: str) -> None:
    echo(f"{verb} {entry.relation} office {entry.office_id} ({entry.card.name})")
    for label, fp in zip(
        ("office key", "signing key", "publisher"), entry.card.pins(), strict=True
    ):
        echo(f"  {label:12} {group_fingerprint(fp)}")


@office_group.command("add")
@with_settings
@click.argument("card")
@click.option("--relation", type=click.Choice(RELATIONS), required=True, help="parent or child.")
@click.option(
    "--fingerprint",
    "publisher_fp",
    required=True,
    help="The office's publisher key fingerprint, as it gave it to you (not from the card).",
)
def add_command(settings: Settings, card: str, relation: str, publisher_fp: str) -> None:
    """Add a parent or child office from CARD: its portal URL or an office.json file (with
    office.json.sig beside it)."""
    with settings.desk() as desk:
        _print(link_office(desk, card, relation, publisher_fp), "added")


@office_group.command("list")
@with_settings
@with_format
def list_command(settings: Settings, fmt: str) -> None:
    """The linked offices, the parent first."""
    with settings.desk() as desk:
        rows = [_row(e) for e in offices(desk)]
    emit(rows, [(c, c) for c in _COLUMNS], fmt, title="linked offices")


@office_group.command("remove")
@with_settings
@click.argument("office_id", metavar="OFFICE")
def remove_command(settings: Settings, office_id: str) -> None:
    """Take OFFICE out of the directory: its packages are refused from then on."""
    with settings.desk() as desk:
        entry = unlink_office(desk, office_id)
    echo(f"removed {entry.relation} office {entry.office_id}")


@office_group.command("refresh")
@with_settings
@click.argument("office_id", metavar="OFFICE")
@click.option("--card", "source", default=None, help="A card file or URL instead of its portal.")
def refresh_command(settings: Settings, office_id: str, source: str | None) -> None:
    """Fetch OFFICE's card again; a card naming other keys is refused until confirmed."""
    with settings.desk() as desk:
        _print(refresh_card(desk, office_id, source), "refreshed")


@office_group.command("confirm")
@with_settings
@click.argument("office_id", metavar="OFFICE")
@click.option(
    "--fingerprint",
    "publisher_fp",
    required=True,
    help="The new card's publisher fingerprint, as the office gave it to you.",
)
def confirm_command(settings: Settings, office_id: str, publisher_fp: str) -> None:
    """Pin OFFICE's changed card (after checking its new keys with the office)."""
    with settings.desk() as desk:
        _print(confirm_card(desk, office_id, publisher_fp), "confirmed")
