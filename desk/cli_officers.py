"""``lianxin desk init``, ``desk officers ...``, ``desk reads`` and ``desk recuse``: accounts,
keys and the read log, thin shells over :mod:`desk.registry`, :mod:`desk.reads` and
:mod:`desk.scope`."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import click

from .casekeys import desk_keys
from .cli_common import (
    DeskGroup,
    Settings,
    boundary,
    desk_group,
    echo,
    office_key_file,
    read_passphrase,
    with_format,
    with_settings,
)
from .context import open_desk
from .envelopes import envelopes_kept
from .officers import all_officers, load_officer, new_officer
from .output import emit
from .reads import list_events, list_reads
from .registry import add_officer, change_passphrase, disable_officer, grant, init_office, set_roles
from .scope import recuse, seal_envelopes
from .signins import reset_totp
from .values import parse_day

_PATH = click.Path(path_type=Path)


def _new_passphrase(officer_id: str) -> str:
    """The new officer's passphrase: LIANXIN_NEW_PASSPHRASE, or typed twice."""
    value = os.environ.get("LIANXIN_NEW_PASSPHRASE")
    return value or read_passphrase(f"New passphrase for {officer_id}", confirm=True, env="-")


@desk_group.command("init")
@click.option("--db", type=_PATH, envvar="LIANXIN_DB", required=True, help="The SQLite store.")
@click.option("--id", "officer_id", required=True, help="The first administrator's officer id.")
@click.option("--name", required=True, help="Their display name.")
@click.option("--unit", default="office.letters", show_default=True, help="Their unit.")
@click.option(
    "--kind",
    type=click.Choice(["production", "demo", "test"]),
    default="production",
    show_default=True,
    help="demo and test stores accept --today for changes.",
)
def init_command(db: Path, officer_id: str, name: str, unit: str, kind: str) -> None:
    """Create the office and its first administrator; prints the key fingerprint to publish.

    The passphrase is asked for twice (or read from LIANXIN_NEW_PASSPHRASE)."""
    with boundary():
        from .context import open_store

        open_store(db, must_exist=False).conn.close()
        first = new_officer(officer_id, name, unit, ("administrator",), _new_passphrase(officer_id))
        desk = open_desk(db, officer=first.unlocked)
        try:
            init_office(desk, first, kind=kind)
        finally:
            desk.close()
    echo(f"Office created ({kind}). First administrator {officer_id}.")
    echo(f"Key fingerprint (publish it): {first.record.fingerprint}")


@desk_group.group("officers", cls=DeskGroup)
def officers_group() -> None:
    """Officer accounts: add, list, show, disable, roles, passphrase, grant."""


@officers_group.command("add")
@with_settings
@click.argument("officer_id", metavar="ID")
@click.option("--name", required=True, help="Display name.")
@click.option("--unit", required=True, help="Unit code (units.yaml, internal).")
@click.option("--role", "roles", multiple=True, required=True, help="A role (repeatable).")
@click.option(
    "--office-key", type=_PATH, default=None, help="Office private key to grant (from its safe)."
)
def add_command(
    settings: Settings,
    officer_id: str,
    name: str,
    unit: str,
    roles: tuple[str, ...],
    office_key: Path | None,
) -> None:
    """Add an officer (administrators); their passphrase is asked for twice."""
    keys = office_key_file(office_key)
    with settings.desk() as desk:
        desk.authorize("officers")
        new = new_officer(officer_id, name, unit, roles, _new_passphrase(officer_id))
        said = add_officer(desk, new, keys)
    echo(f"Officer {officer_id} added ({', '.join(new.record.roles)}); {said}.")


@officers_group.command("list")
@with_settings
@with_format
def list_command(settings: Settings, fmt: str) -> None:
    """Every officer: id, name, unit, roles, fingerprint, status."""
    with settings.desk() as desk:
        rows = [
            {**o.public(), "roles": ",".join(o.roles), "fingerprint": o.fingerprint,
             "status": "disabled" if o.disabled else "active"}
            for o in all_officers(desk.db)
        ]  # fmt: skip
    columns = [(c, c) for c in ("id", "name", "unit", "roles", "status", "fingerprint")]
    emit(rows, columns, fmt, title="Officers")


@officers_group.command("show")
@with_settings
@click.argument("officer_id", metavar="ID")
def show_command(settings: Settings, officer_id: str) -> None:
    """One officer's public record."""
    with settings.desk() as desk:
        o = load_officer(desk.db, officer_id, "ID")
        cases = desk.db.execute("SELECT count(*) FROM case_keys WHERE holder = ?", [o.id])
        held = int(cases.fetchone()[0])
    echo(f"{o.id}: {o.name} · {o.unit} · {', '.join(o.roles)}")
    echo(f"  status {'disabled' if o.disabled else 'active'} · holds keys of {held} case(s)")
    echo(f"  signing key fingerprint {o.fingerprint}")


@officers_group.command("disable")
@with_settings
@click.argument("officer_id", metavar="ID")
def disable_command(settings: Settings, officer_id: str) -> None:
    """Disable an officer and remove every key wrapped to them."""
    with settings.desk() as desk:
        removed = disable_officer(desk, officer_id)
    echo(
        f"Officer {officer_id} disabled; {removed} key wrap(s) removed. What they already "
        "read cannot be unread: see 'lianxin desk reads --officer'."
    )


@officers_group.command("reset-totp")
@with_settings
@click.argument("officer_id", metavar="ID")
def reset_totp_command(settings: Settings, officer_id: str) -> None:
    """Reset an officer's second factor (a lost device): they sign in with the passphrase and
    enrol a new authenticator app (administrator; a signed event)."""
    with settings.desk() as desk:
        reset_totp(desk, officer_id)
    echo(
        f"Officer {officer_id}'s second factor reset; at the next sign-in they give the"
        " passphrase alone and enrol their new app on the account page."
    )


@officers_group.command("roles")
@with_settings
@click.argument("officer_id", metavar="ID")
@click.option("--role", "roles", multiple=True, required=True, help="A role (repeatable).")
@click.option("--unit", default=None, help="Move them to this unit.")
@click.option(
    "--office-key", type=_PATH, default=None, help="Office private key to grant (from its safe)."
)
def roles_command(
    settings: Settings,
    officer_id: str,
    roles: tuple[str, ...],
    unit: str | None,
    office_key: Path | None,
) -> None:
    """Set an officer's roles (and unit); keys out of their new scope are removed."""
    keys = office_key_file(office_key)
    with settings.desk() as desk:
        said = set_roles(desk, officer_id, roles, unit, keys)
    echo(f"Officer {officer_id}: {', '.join(roles)}; {said}.")


@officers_group.command("passphrase")
@with_settings
def passphrase_command(settings: Settings) -> None:
    """Change your own passphrase (the new one is asked for twice)."""
    with settings.desk() as desk:
        change_passphrase(desk, _new_passphrase(desk.actor()))
    echo("Passphrase changed.")


@officers_group.command("grant")
@with_settings
@click.argument("officer_id", metavar="ID")
def grant_command(settings: Settings, officer_id: str) -> None:
    """Registrars: give an officer the keys their roles put in scope."""
    with settings.desk() as desk:
        echo(grant(desk, officer_id, desk_keys(desk)) + ".")


def _day(text: str | None, argument: str) -> date | None:
    return parse_day(text, argument) if text else None


@desk_group.command("reads")
@with_settings
@with_format
@click.option("--case", default=None, help="Only this case.")
@click.option("--of", "of_officer", default=None, metavar="ID", help="Only this officer's reads.")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="From this office day.")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="Up to this office day.")
def reads_command(
    settings: Settings,
    fmt: str,
    case: str | None,
    of_officer: str | None,
    since: str | None,
    until: str | None,
) -> None:
    """The read log (auditors): who read which case's what, and when."""
    with settings.desk() as desk:
        rows = list_reads(
            desk,
            case,
            of_officer,
            since=_day(since, "--since"),
            until=_day(until, "--until"),
        )
    columns = [(c, c) for c in ("seq", "time", "officer", "case", "what", "detail")]
    emit(rows, columns, fmt, title="Read log")


@desk_group.command("events")
@with_settings
@with_format
@click.option("--case", default=None, help="Only this case.")
@click.option("--of", "of_officer", default=None, metavar="ID", help="Only this officer's events.")
@click.option("--type", "kind", default=None, help="Only events of this type (e.g. assigned).")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="From this office day.")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="Up to this office day.")
@click.option("--limit", type=int, default=500, show_default=True, help="At most this many.")
def events_command(
    settings: Settings,
    fmt: str,
    case: str | None,
    of_officer: str | None,
    kind: str | None,
    since: str | None,
    until: str | None,
    limit: int,
) -> None:
    """The event log (auditors, administrators), newest first: who did what, when."""
    with settings.desk() as desk:
        rows = list_events(
            desk,
            case,
            of_officer,
            kind=kind,
            since=_day(since, "--since"),
            until=_day(until, "--until"),
            limit=limit,
        )
    columns = [(c, c) for c in ("seq", "time", "officer", "case", "type", "detail")]
    emit(rows, columns, fmt, title="Event log")


@desk_group.command("recuse")
@with_settings
@click.argument("case")
@click.option("--recused", required=True, metavar="ID", help="The officer who must not read it.")
@click.option("--reason", required=True, help="Why (sealed as a note).")
def recuse_command(settings: Settings, case: str, recused: str, reason: str) -> None:
    """回避: remove an officer from a case's scope (approvers); their key wrap is deleted."""
    with settings.desk() as desk:
        result = recuse(desk, case, recused, reason)
        kept = envelopes_kept(desk.db, result.id)
    echo(
        f"Officer {recused} recused from case {result.label}; their case key is removed. What"
        " they read before cannot be unread, and backups made before keep their old keys."
    )
    if kept:
        echo(
            f"Warning: {kept} original envelope(s) of case {result.label} are still stored,"
            " sealed to the office key that every registrar holds: a registrar in scope should"
            " run 'lianxin desk seal-envelopes'."
        )


@desk_group.command("seal-envelopes")
@with_settings
def seal_envelopes_command(settings: Settings) -> None:
    """Registrars, once after upgrading a store: move each registered case's original
    envelopes under its case key, so that the office key no longer opens them."""
    with settings.desk() as desk:
        done, removed, skipped = seal_envelopes(desk, desk_keys(desk))
    echo(f"{done} case(s) sealed, {removed} envelope(s) removed.")
    if skipped:
        echo(f"Not in your scope (another registrar must run this): {', '.join(skipped)}.")
