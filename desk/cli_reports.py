"""``lianxin desk`` commands that read the register: warnings, duplicates, ledgers, analysis,
listings, verify, backup and restore."""

from __future__ import annotations

from pathlib import Path

import click

from .analysis import monthly_analysis
from .analysis_render import to_csv, to_markdown
from .backup import backup, restore
from .casekeys import desk_keys
from .cli_common import Refusal, Settings, desk_group, echo, with_format, with_settings
from .context import Desk
from .duplicates import THRESHOLD, find_duplicates
from .ledger import all_ledgers, ledger
from .listing import Filters, list_cases, show_case
from .output import dump_json, emit
from .refusals import BadValue
from .supervision import issue_warnings, supervision_csv, supervision_markdown
from .warnings import NO_UNIT, compute_warnings

_OUT = click.Path(path_type=Path, dir_okay=False)


def unit_name(desk: Desk, code: str) -> str:
    """A unit's Chinese name for tables (a named authority, or '-', as it is)."""
    unit = desk.taxonomy.units.get(code)
    if unit is not None:
        return unit.zh
    return "未分办 / 本室" if code == NO_UNIT else code


@desk_group.command("warnings")
@with_settings
@with_format
@click.option("--unit", default=None, help="Only this handling unit.")
@click.option("--issue", is_flag=True, help="Record the red and yellow warnings as issued.")
@click.option(
    "--supervision-list",
    type=_OUT,
    default=None,
    help="Write the supervision list (督办单) here (.md or .csv); implies --issue.",
)
def warnings_command(
    settings: Settings, fmt: str, unit: str | None, issue: bool, supervision_list: Path | None
) -> None:
    """Three-colour warnings per handling unit: red overdue, yellow near, blue concluded."""
    with settings.desk() as desk:
        desk.authorize("warnings")
        report = compute_warnings(desk)
        if unit is not None:
            report.units = [u for u in report.units if u.unit == unit]
            report.flagged = [f for f in report.flagged if f.unit == unit]
            report.signing = [f for f in report.signing if f.unit == unit]
            report.duties = [f for f in report.duties if f.unit == unit]
            report.replies = [f for f in report.replies if f.unit == unit]
        issued = []
        if issue or supervision_list is not None:
            issued = issue_warnings(desk, report)
        if supervision_list is not None:
            text = (
                supervision_csv(report)
                if supervision_list.suffix == ".csv"
                else supervision_markdown(desk, report, desk.actor())
            )
            supervision_list.write_text(text, encoding="utf-8")
        names = {code: unit_name(desk, code) for code in {u.unit for u in report.units}}
    units = [u.as_dict() for u in report.units]
    flagged = [f.as_dict() for f in report.flagged]
    signing = [f.as_dict() for f in report.signing]
    duties = [f.as_dict() for f in report.duties]
    replies = [f.as_dict() for f in report.replies]
    if fmt == "json":
        totals = dict(report.totals())
        dump_json(
            {
                "today": report.today.isoformat(),
                "totals": totals,
                "units": units,
                "flagged": flagged,
                "slow_signing": signing,
                "duties": duties,
                "replies": replies,
                "issued": len(issued),
            }
        )
        return
    if fmt == "csv":
        emit(
            [*flagged, *signing, *duties, *replies],
            [
                (k, k)
                for k in (
                    "unit",
                    "colour",
                    "case_id",
                    "number",
                    "state",
                    "stage",
                    "due",
                    "days",
                    "uncertain",
                )
            ],
            fmt,
        )
        return
    # For people: unit names instead of codes, each colour in its colour (in a terminal).
    for row in (*units, *flagged, *signing, *duties, *replies):
        row["unit"] = names.get(row["unit"], row["unit"])
    for row in (*flagged, *signing, *duties, *replies):
        row["case"] = row["number"] or f"#{row['case_id']}"
    columns = [
        ("unit", "unit 承办单位"),
        ("red", "red 红"),
        ("yellow", "yellow 黄"),
        ("green", "green 绿"),
        ("blue", "blue 蓝"),
    ]
    colours = {c: c for c in ("red", "yellow", "green", "blue")}
    emit(units, columns, fmt, title=f"Warnings on {report.today.isoformat()}", styles=colours)
    flagged_columns = [
        ("colour", "colour"),
        ("case", "case"),
        ("unit", "unit"),
        ("stage", "stage"),
        ("due", "due"),
        ("days", "days over/left"),
        ("uncertain", "provisional"),
    ]
    emit(flagged, flagged_columns, fmt, title="Red and yellow cases", value_styled="colour")
    if signing:
        title = "Slow signing 签收超时 (assigned, not signed for)"
        emit(signing, flagged_columns, fmt, title=title, value_styled="colour")
    if duties:
        title = "Acceptance notices and inquiry replies 受理告知与函询回复"
        emit(duties, flagged_columns, fmt, title=title, value_styled="colour")
    if replies:
        title = "Forwarded, awaiting the authority's reply 转办待回复"
        emit(replies, flagged_columns, fmt, title=title, value_styled="colour")
    if issue or supervision_list is not None:
        echo(f"{len(issued)} warning(s) issued.")
    if supervision_list is not None:
        echo(f"Supervision list written to {supervision_list}.")


@desk_group.command("duplicates")
@with_settings
@with_format
@click.option(
    "--threshold",
    type=float,
    default=THRESHOLD,
    show_default=True,
    help="Similarity (0-1) from which a pair is suggested.",
)
def duplicates_command(settings: Settings, fmt: str, threshold: float) -> None:
    """Suggest likely repeat reports among opened ones (staff confirm with --repeat-of)."""
    if not 0 < threshold <= 1:
        raise BadValue(f"{threshold} is not between 0 and 1", "--threshold")
    with settings.desk() as desk:
        keys = desk_keys(desk)
        found = find_duplicates(desk, keys, threshold=threshold)
    columns = [
        ("score", "similarity"),
        ("earlier_label", "earlier"),
        ("later_label", "later"),
        ("same_person", "same person"),
        ("earlier_title", "earlier title"),
        ("later_title", "later title"),
        ("command", "to confirm: lianxin desk ..."),
    ]
    emit([s.as_dict() for s in found], columns, fmt, title="Likely repeat reports")


@desk_group.command("ledger")
@with_settings
@with_format
@click.argument("tag", required=False)
def ledger_command(settings: Settings, fmt: str, tag: str | None) -> None:
    """A special ledger (专项台账): its cases, open vs. cleared; without TAG, every ledger."""
    with settings.desk() as desk:
        desk.authorize("ledger")
        if tag is None:
            summaries = [lg.summary() for lg in all_ledgers(desk)]
            columns = [
                ("tag", "tag"),
                ("zh", "台账"),
                ("total", "total"),
                ("open", "open"),
                ("cleared", "cleared"),
                ("cleared_to_zero", "清零"),
            ]
            emit(summaries, columns, fmt, title="Special ledgers")
            return
        found = ledger(desk, tag)
    rows = [c.as_dict() for c in found.cases]
    summary = found.summary()
    columns = [
        ("number", "number"),
        ("case_id", "id"),
        ("state", "state"),
        ("unit", "unit"),
        ("due_date", "due"),
        ("cleared_date", "cleared"),
    ]
    emit(rows, columns, fmt, title=f"{found.zh} ({tag})", json_doc={**summary, "cases": rows})
    if fmt == "table":
        zero = "已清零 cleared to zero" if found.cleared_to_zero else "未清零 not cleared"
        echo(f"{summary['open']} open, {summary['cleared']} cleared: {zero}.")


@desk_group.command("analysis")
@with_settings
@click.option("--month", required=True, metavar="YYYY-MM", help="The month to analyse.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV instead of Markdown.")
@click.option("--lang", default="zh", show_default=True, help="zh or en (Markdown labels).")
@click.option(
    "--xlsx",
    "as_xlsx",
    is_flag=True,
    help="An .xlsx workbook to --out: one sheet per table, beside the previous month and the"
    " same month last year.",
)
@click.option("--out", type=_OUT, default=None, help="Write to this file instead of printing.")
def analysis_command(
    settings: Settings, month: str, as_csv: bool, as_xlsx: bool, lang: str, out: Path | None
) -> None:
    """The monthly analysis (月分析) as Markdown or CSV, or as an .xlsx workbook."""
    if lang not in ("zh", "en"):
        raise BadValue(f"{lang!r} is not zh or en", "--lang")
    if as_xlsx:
        if out is None or as_csv:
            raise BadValue("give --out FILE.xlsx (and no --csv)", "--xlsx")
        from .analysis_compare import compare_months, to_xlsx

        with settings.desk() as desk:
            workbook = to_xlsx(compare_months(desk, month), lang=lang)
        out.write_bytes(workbook)
        echo(f"Analysis for {month} (with the month before and a year before) written to {out}.")
        return
    with settings.desk() as desk:
        desk.authorize("analysis")
        result = monthly_analysis(desk, month)
        text = to_csv(desk, result) if as_csv else to_markdown(desk, result, lang=lang)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        echo(f"Analysis for {month} written to {out}.")


@desk_group.command("verify")
@with_settings
@with_format
@click.option(
    "--against",
    type=click.Path(path_type=Path),
    default=None,
    metavar="SITE_OR_FILE",
    help="Also compare with the chain heads signed at each publish (a site or head file).",
)
@click.option(
    "--since-head",
    is_flag=True,
    help="Only the chain and signatures of the events since the last signed chain head.",
)
def verify_command(settings: Settings, fmt: str, against: Path | None, since_head: bool) -> None:
    """Check the event log: chain, signatures, roles at the time, time order, and that
    every case is what its events say (auditors and administrators)."""
    from .against import check_against
    from .verify import Problem, Report
    from .verify_parallel import check_since_head, verify_desk

    with settings.desk() as desk:
        desk.authorize("verify")
        if since_head:
            part = check_since_head(settings.db)
            report = Report(events=part.events, signed=part.signed, kind=desk.kind)
            report.problems = [Problem(*p) for p in part.problems]
        else:
            report = verify_desk(desk)
        if against is not None:
            report.problems += [
                Problem("head", None, seq or None, text)
                for seq, text in check_against(desk.db, against)
            ]
    if fmt == "json":
        dump_json(report.as_dict())
    else:
        for problem in report.problems:
            echo(str(problem))
        verdict = "OK" if report.ok else f"FAILED ({len(report.problems)} problem(s))"
        echo(
            f"{report.kind} store; first administrator {report.first_admin}"
            f" (fingerprint {report.fingerprint})"
        )
        echo(
            f"{report.events} events ({report.signed} signed, {report.unsigned} unsigned,"
            f" {report.legacy} legacy), {report.cases} cases: {verdict}"
        )
    if not report.ok:
        raise click.exceptions.Exit(1)


@desk_group.command("backup")
@with_settings
@click.argument("path", type=_OUT)
def backup_command(settings: Settings, path: Path) -> None:
    """Copy the live store to PATH (SQLite online backup) and verify the copy."""
    with settings.desk() as desk:
        desk.authorize("backup")
    result = backup(settings.db, path)
    verdict = "verifies" if result.report.ok else "DOES NOT verify (the live store has problems)"
    echo(f"Backup written to {path}; it {verdict}.")
    if not result.report.ok:
        raise Refusal("the backup does not verify: run 'lianxin desk verify'")


@desk_group.command("restore")
@with_settings
@click.argument("path", type=_OUT)
def restore_command(settings: Settings, path: Path) -> None:
    """Replace the store with the backup at PATH; refused unless the backup verifies."""
    from lianxin.domain.workdays import SystemClock

    from .values import parse_day

    today = parse_day(settings.today, "--today") if settings.today else SystemClock().today()
    with settings.desk() as desk:
        desk.authorize("restore")
    result = restore(path, settings.db, today=today.isoformat())
    saved = (
        f" The previous store was saved as {result.saved_previous}."
        if result.saved_previous
        else ""
    )
    echo(f"Restored {settings.db} from {path}.{saved}")


@desk_group.command("show")
@with_settings
@with_format
@click.argument("case")
def show_command(settings: Settings, fmt: str, case: str) -> None:
    """One case: register fields, next steps, history; notes too when --key is given."""
    with settings.desk() as desk:
        keys = desk_keys(desk)
        doc = show_case(desk, case, keys)
    if fmt == "json":
        dump_json(doc)
        return
    fields = [{"field": k, "value": v} for k, v in doc["case"].items() if v not in (None, [], "")]
    fields += [
        {"field": k, "value": doc[k]}
        for k in (
            "state_label",
            "current_due",
            "provisional",
            "tokens",
            "submissions",
            "answers",
            "notes_count",
        )
    ]
    fields.append({"field": "next steps", "value": ", ".join(doc["next_steps"])})
    emit(fields, [("field", "field"), ("value", "value")], fmt, title=f"Case {case}")
    history = [
        {**e, "data": ", ".join(f"{k}={v}" for k, v in e["data"].items())} for e in doc["events"]
    ]
    emit(
        history,
        [
            ("seq", "seq"),
            ("at", "date"),
            ("time", "recorded (UTC)"),
            ("actor", "officer"),
            ("type", "event"),
            ("data", "data"),
        ],
        fmt,
        title="History",
    )
    if doc.get("content"):
        emit(
            doc["content"],
            [("submission", "submission"), ("kind", "kind"), ("title", "title"), ("text", "text")],
            fmt,
            title="Report content (this read is recorded)",
        )
    if doc.get("files"):
        emit(
            doc["files"],
            [("file", "file"), ("name", "name"), ("size", "bytes")],
            fmt,
            title="Files (save one with: lianxin desk file CASE FILE)",
        )
    if "notes" in doc:
        emit(
            doc["notes"],
            [
                ("id", "id"),
                ("created_at", "at"),
                ("officer", "officer"),
                ("kind", "kind"),
                ("text", "text"),
                ("reference", "ref"),
                ("file", "file"),
            ],
            fmt,
            title="Notes",
        )


@desk_group.command("list")
@with_settings
@with_format
@click.option("--state", default=None, help="received, accepted, in_progress, ...")
@click.option("--unit", default=None, help="Handling unit or authority.")
@click.option("--channel", default=None, help="letter, visit, phone, online, ...")
@click.option("--month", default=None, metavar="YYYY-MM", help="Received in this month.")
@click.option("--tag", default=None, help="In this special ledger.")
@click.option("--limit", type=int, default=200, show_default=True, help="At most this many.")
def list_command(
    settings: Settings,
    fmt: str,
    state: str | None,
    unit: str | None,
    channel: str | None,
    month: str | None,
    tag: str | None,
    limit: int,
) -> None:
    """The register, newest first; provisional deadlines (no holiday data) are flagged."""
    filters = Filters(state, unit, channel, month, tag, limit)
    with settings.desk() as desk:
        rows = list_cases(desk, filters)
        names = {row["unit"]: unit_name(desk, row["unit"]) for row in rows if row["unit"]}
    if fmt != "table":
        columns = [
            (key, key.replace("_", " "))
            for key in (
                *("id", "number", "channel", "received", "state", "item_type", "problem"),
                *("unit", "due", "provisional", "colour", "tags"),
            )
        ]
        emit(rows, columns, fmt)
        return
    # A table that fits 80 columns: what a clerk scans for; the rest is in `desk show CASE`.
    for row in rows:
        row["case"] = row["number"] or f"#{row['id']}"
        row["unit"] = names.get(row["unit"], row["unit"]) if row["unit"] else ""
        row["due"] = f"{row['due']}?" if row["provisional"] else row["due"]
    columns = [
        ("case", "case"),
        ("state", "state"),
        ("unit", "unit"),
        ("due", "due"),
        ("colour", "colour"),
    ]
    emit(rows, columns, fmt, title="Register", value_styled="colour")
    if any(row["provisional"] for row in rows):
        echo("due?: provisional, no holiday data for that year yet.")
    echo("Everything about a case: lianxin desk show CASE")


@desk_group.command("search")
@with_settings
@with_format
@click.option("--number", default=None, help="Registration number, or a part of it.")
@click.option("--unit", default=None, help="Handling unit or authority.")
@click.option("--tag", default=None, help="In this special ledger.")
@click.option("--state", default=None, help="received, accepted, in_progress, ...")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="Received on or after.")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="Received on or before.")
@click.option("--person", default=None, help="The reported person's name or unit (opens reports).")
@click.option("--words", default=None, help="Words of the report, all of them (opens reports).")
@click.option("--limit", type=int, default=100, show_default=True, help="At most this many.")
def search_command(
    settings: Settings,
    fmt: str,
    number: str | None,
    unit: str | None,
    tag: str | None,
    state: str | None,
    since: str | None,
    until: str | None,
    person: str | None,
    words: str | None,
    limit: int,
) -> None:
    """Cases in your scope by register fields and, opening reports you may read (each a
    recorded read), by the reported person or words of the report."""
    from .search import Query, search_cases
    from .values import parse_day

    query = Query(
        number,
        unit,
        tag,
        state,
        parse_day(since, "--since") if since else None,
        parse_day(until, "--until") if until else None,
        person,
        words,
        limit,
    )
    with settings.desk() as desk:
        found = search_cases(desk, query)
    columns = [(c, c) for c in ("id", "number", "received", "state", "unit", "due", "colour")]
    emit(found.rows, columns, fmt, title="Found")
    if fmt == "table" and query.opens_reports:
        echo(
            f"{found.opened} reports opened (each a recorded read); {found.not_opened} not"
            " opened (no key of yours)"
            + ("; only the newest were searched" if found.capped else "")
        )
