"""``lianxin office assign|progress|check|send|export|import|receive``: a case worked across
linked offices and the packages that carry it, thin shells over :mod:`desk.linkwork` and
:mod:`desk.packages`."""

from __future__ import annotations

from pathlib import Path

import click

from .casekeys import desk_keys
from .cli_common import Settings, days_option, echo, read_text_option, with_settings
from .cli_offices import office_group
from .deadlines import Manual
from .linkwork import (
    UP_KINDS,
    WANTED,
    apply_packages,
    assign_to_office,
    check_office_report,
    report_up,
)
from .packages import deliver, export_files, import_file
from .refusals import BadValue
from .values import parse_day

__all__ = ["office_group"]

_FILE = click.Path(path_type=Path, dir_okay=False)


@office_group.command("assign")
@with_settings
@click.argument("case")
@click.option("--to", "office_id", required=True, help="The child office (its id).")
@click.option("--instructions", default=None, help="What the child office is to do.")
@click.option(
    "--instructions-file", type=_FILE, default=None, help="The instructions, from a file."
)
@click.option("--deadline", required=True, metavar="YYYY-MM-DD", help="When it is due back.")
@click.option(
    "--want",
    "wanted",
    type=click.Choice(WANTED),
    multiple=True,
    help="What is wanted back (repeatable; default: a completion report and an answer).",
)
def assign_command(
    settings: Settings,
    case: str,
    office_id: str,
    instructions: str | None,
    instructions_file: Path | None,
    deadline: str,
    wanted: tuple[str, ...],
) -> None:
    """交办: assign CASE to a child office; the package waits for 'lianxin office send'."""
    text = read_text_option(instructions, instructions_file, "--instructions") or ""
    day = parse_day(deadline, "--deadline")
    with settings.desk() as desk:
        done = assign_to_office(desk, case, office_id, text, day, wanted or WANTED)
    echo(f"case {done.label} assigned to office {office_id}, due {done.due_date}")


@office_group.command("progress")
@with_settings
@click.argument("case")
@click.argument("kind", type=click.Choice(UP_KINDS))
@click.option("--text", default=None, help="Reasons (extension) or the completion report.")
@click.option("--text-file", type=_FILE, default=None, help="The same, from a file.")
@click.option("--answer", "answer_text", default="", help="The answer to the reporter.")
def progress_command(
    settings: Settings,
    case: str,
    kind: str,
    text: str | None,
    text_file: Path | None,
    answer_text: str,
) -> None:
    """向上级报告: send KIND (signed-for, extension, completion, answer) on a CASE assigned
    from above to the upper office."""
    body = read_text_option(text, text_file, "--text") or ""
    with settings.desk() as desk:
        done = report_up(desk, case, kind, text=body, answer_text=answer_text)
    echo(f"case {done.label}: {kind} queued for the upper office ('lianxin office send')")


@office_group.command("check")
@with_settings
@click.argument("case")
@click.option("--accept", "decision", flag_value="accept", help="Accept the completion report.")
@click.option("--return", "decision", flag_value="return", help="Return it for rework.")
@click.option("--reason", default="", help="Why it is returned (or a comment when accepted).")
@days_option
def check_command(
    settings: Settings,
    case: str,
    decision: str | None,
    reason: str,
    days: int | None,
    calendar_days: bool,
) -> None:
    """审核: accept a lower office's completion report (its answer then answers the reporter)
    or return it with reasons and a new deadline (the policy's rework rule, or --days)."""
    if decision is None:
        raise BadValue("give --accept or --return", "--accept")
    manual = Manual.parse(days, "calendar" if calendar_days else "working")
    with settings.desk() as desk:
        keys = desk_keys(desk)
        done = check_office_report(
            desk, case, keys, accept=decision == "accept", reason=reason, manual=manual
        )
    echo(f"case {done.label}: {decision}ed; now {done.state}, due {done.due_date or '-'}")


@office_group.command("send")
@with_settings
@click.option("--office", "office_id", default=None, help="Only the packages to this office.")
def send_command(settings: Settings, office_id: str | None) -> None:
    """Post the waiting packages to the linked offices' gateways (POST /v1/packages)."""
    with settings.desk() as desk:
        results = deliver(desk, office_id)
    for r in results:
        echo(f"{r.office_id} #{r.seq} {r.kind}: {r.result}")
    if not results:
        echo("no package waits to be sent")


@office_group.command("export")
@with_settings
@click.argument("office_id", metavar="OFFICE")
@click.option(
    "--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="A folder."
)
def export_command(settings: Settings, office_id: str, out: Path) -> None:
    """Write the packages waiting for OFFICE as files (an office that is offline)."""
    with settings.desk() as desk:
        written = export_files(desk, office_id, out)
    for path in written:
        echo(str(path))


@office_group.command("import")
@with_settings
@click.argument("files", type=_FILE, nargs=-1, required=True)
def import_command(settings: Settings, files: tuple[Path, ...]) -> None:
    """Take in package files, with the gateway's checks; then 'lianxin office receive'."""
    with settings.desk() as desk:
        for path in files:
            got = import_file(desk, path)
            echo(f"{path.name}: {got.package.kind} #{got.package.seq} from {got.package.sender}")


@office_group.command("receive")
@with_settings
def receive_command(settings: Settings) -> None:
    """Apply the packages taken in: assignments become cases, progress goes on the timeline."""
    with settings.desk() as desk:
        results = apply_packages(desk, desk_keys(desk))
    for r in results:
        where = f"case {r.case_label}" if r.case_label else f"not applied: {r.problem}"
        echo(f"{r.office_id} #{r.seq} {r.kind}: {where}")
    if not results:
        echo("no package waits to be applied")
