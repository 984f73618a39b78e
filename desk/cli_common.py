"""What every ``lianxin desk`` command shares: the group, the settings options, the error
boundary and the output-format flags.

Settings come from options or the environment: ``--db`` (``LIANXIN_DB``), ``--officer``
(``LIANXIN_OFFICER``; the passphrase is asked for, or read from ``LIANXIN_PASSPHRASE``),
``--policy`` (``LIANXIN_POLICY``),
``--data-dir`` (``LIANXIN_DATA_DIR``), ``--calendar-override`` (``LIANXIN_CALENDAR_OVERRIDE``)
and ``--today`` (the injectable clock; otherwise today in ``LIANXIN_TIMEZONE``). Every refusal
prints one ``Error: <argument>: <why>`` line and exits with 1 (a refusal) or 2 (a bad argument);
nothing is changed.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from lianxin.domain.errors import DomainError
from lianxin.domain.workdays import Clock, FixedClock
from lianxin.officetime import OfficeZoneError

from .context import Desk, open_desk
from .errors import DeskError
from .officekeys import OfficeKeys, load_office_keys
from .officers import UnlockedOfficer, unlock
from .refusals import BadValue, Refused
from .values import parse_day

F = TypeVar("F", bound=Callable[..., Any])


class Refusal(click.ClickException):
    """A desk refusal as one ``Error: ...`` line, exit status 1."""

    exit_code = 1


class BadArgument(click.ClickException):
    """A bad argument as one ``Error: ...`` line, exit status 2."""

    exit_code = 2


def cli_error(message: str, exit_code: int) -> click.ClickException:
    """The one-line CLI error for a message and exit status."""
    return BadArgument(message) if exit_code == 2 else Refusal(message)


class DeskCommand(click.Command):
    """A command whose usage errors are one line (``Error: Missing option '--db'.``), exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise BadArgument(exc.format_message()) from exc


class DeskGroup(click.Group):
    """The ``desk`` group: its commands are :class:`DeskCommand`."""

    command_class = DeskCommand


@click.group("desk", cls=DeskGroup)
def desk_group() -> None:
    """The office desk: inbox, intake, register, route, answer, warnings, analysis.

    Every command authenticates its officer: --officer ID and the passphrase (asked for, or
    LIANXIN_PASSPHRASE for scripts). Settings can come from the environment: LIANXIN_DB,
    LIANXIN_OFFICER, LIANXIN_POLICY, LIANXIN_DATA_DIR, LIANXIN_CALENDAR_OVERRIDE. "Today" is the
    date in the office's time zone, LIANXIN_TIMEZONE (default Asia/Shanghai), as for the gateway
    and the publisher.
    """


@contextmanager
def boundary() -> Iterator[None]:
    """Turn desk errors into one line and an exit code."""
    try:
        yield
    except Refused as exc:
        raise cli_error(str(exc), exc.exit_code) from exc
    except (DeskError, DomainError) as exc:  # e.g. a bad data, policy or calendar file
        raise Refusal(str(exc)) from exc
    except OfficeZoneError as exc:  # LIANXIN_TIMEZONE is not a zone
        raise Refusal(str(exc)) from exc


@dataclass(frozen=True)
class Settings:
    """The options every command may take."""

    db: Path
    officer: str
    today: str | None
    policy: str | None
    data_dir: Path | None
    calendar_override: Path | None

    def clock(self) -> Clock | None:
        """A fixed clock when ``--today`` was given."""
        return FixedClock(parse_day(self.today, "--today")) if self.today else None

    @contextmanager
    def desk(self, *, authenticate: bool = True) -> Iterator[Desk]:
        """Open the desk for one command, authenticate the officer, close it afterwards."""
        desk = open_desk(
            self.db,
            clock=self.clock(),
            data_dir=self.data_dir,
            policy=self.policy,
            calendar_override=self.calendar_override,
        )
        try:
            if authenticate:
                desk.officer = authenticate_officer(desk, self.officer)
            yield desk
        finally:
            desk.close()


def read_passphrase(prompt: str, *, confirm: bool = False, env: str = "LIANXIN_PASSPHRASE") -> str:
    """A passphrase from the environment (scripts) or typed without echo."""
    value = os.environ.get(env)
    if value:
        return value
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True))


def authenticate_officer(desk: Desk, officer_id: str) -> UnlockedOfficer:
    """Unlock ``--officer``'s keys with their passphrase; refused if wrong."""
    officer_id = officer_id.strip()
    if not officer_id:
        raise BadValue(
            "who is acting? give --officer ID (or set LIANXIN_OFFICER)", argument="--officer"
        )
    from .officers import load_officer

    load_officer(desk.db, officer_id)
    return unlock(desk.db, officer_id, read_passphrase(f"Passphrase for {officer_id}"))


def office_key_file(path: Path | None) -> OfficeKeys | None:
    """Office private keys from a file or folder (only to grant them to officers)."""
    if path is None:
        return None
    if not path.exists():
        raise BadValue(f"no such file or folder {path}", "--office-key")
    return load_office_keys(path)


_PATH = click.Path(path_type=Path)
_SETTINGS = (
    click.option("--db", type=_PATH, envvar="LIANXIN_DB", required=True, help="The SQLite store."),
    click.option(
        "--officer",
        envvar="LIANXIN_OFFICER",
        default="",
        help="Your officer id; the passphrase is asked for [env LIANXIN_OFFICER,"
        " LIANXIN_PASSPHRASE].",
    ),
    click.option(
        "--today",
        default=None,
        metavar="YYYY-MM-DD",
        help="Show a read-only view as of this day (changes only in demo and test stores).",
    ),
    click.option(
        "--policy",
        envvar="LIANXIN_POLICY",
        default=None,
        help="Deadline policy (preset or file) for new registrations [default cn-jijian-2020].",
    ),
    click.option(
        "--data-dir",
        type=_PATH,
        envvar="LIANXIN_DATA_DIR",
        default=None,
        help="Folder of replacement data files (problem types, units, ...).",
    ),
    click.option(
        "--calendar-override",
        type=_PATH,
        envvar="LIANXIN_CALENDAR_OVERRIDE",
        default=None,
        help="Holiday override file for a new year's State Council notice.",
    ),
)
_NAMES = ("db", "officer", "today", "policy", "data_dir", "calendar_override")


def with_settings(func: F) -> F:
    """Add the settings options; the command receives ``settings`` and runs in the boundary."""

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        settings = Settings(**{name: kwargs.pop(name) for name in _NAMES})
        with boundary():
            return func(settings, **kwargs)

    for option in reversed(_SETTINGS):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def with_format(func: F) -> F:
    """Add ``--json`` / ``--csv``; the command receives ``fmt`` (table, json or csv)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json, as_csv = kwargs.pop("as_json"), kwargs.pop("as_csv")
        if as_json and as_csv:
            raise BadArgument("--json: give --json or --csv, not both")
        return func(*args, fmt="json" if as_json else "csv" if as_csv else "table", **kwargs)

    wrapper = click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")(wrapper)
    wrapper = click.option("--json", "as_json", is_flag=True, help="Print JSON.")(wrapper)
    return wrapper  # type: ignore[return-value]


def read_text_option(text: str | None, path: Path | None, argument: str) -> str | None:
    """Text given inline or in a file (``--text`` / ``--text-file``)."""
    if text is not None and path is not None:
        raise BadValue(f"give {argument} or {argument}-file, not both", argument)
    if path is None:
        return text
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadValue(f"cannot read {path}: {exc}", f"{argument}-file") from exc


def days_option(func: F) -> F:
    """``--days N`` and ``--calendar`` (calendar instead of working days)."""
    func = click.option(
        "--calendar",
        "calendar_days",
        is_flag=True,
        help="Count --days as calendar days (default: working days).",
    )(func)
    return click.option(
        "--days",
        type=int,
        default=None,
        help="Set the deadline by hand: N working days (calendar days with --calendar).",
    )(func)


def echo(message: str) -> None:
    """A plain line on standard output."""
    click.echo(message)
