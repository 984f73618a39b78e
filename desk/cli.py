"""``lianxin desk``: the office desk's commands, thin shells over the desk library.

This module holds the group and the steps that receive and route a case; answering is in
:mod:`desk.cli_answers`, reports (warnings, analysis, ledgers, listings, verify, backup) in
:mod:`desk.cli_reports`.
"""

from __future__ import annotations

import json
import mimetypes
import os
from pathlib import Path
from typing import Any

import click
from rich.cells import cell_len

from lianxin.protocol import Attachment

from . import cli_answers, cli_loop, cli_officers, cli_reports
from .casefiles import read_case_file
from .casekeys import desk_keys
from .cli_common import (
    Settings,
    days_option,
    desk_group,
    echo,
    read_text_option,
    with_format,
    with_settings,
)
from .deadlines import Manual
from .inbox import Opened, open_inbox, suggest_registration
from .intake import Slip, intake, report_from_options
from .lifecycle import state_label
from .notes import add_note
from .output import console, emit
from .refusals import BadValue
from .register import Registration, not_accepted, register
from .routing import Route, extend, route

__all__ = ["cli_answers", "cli_loop", "cli_officers", "cli_reports", "desk_group"]
_FILE = click.Path(path_type=Path, dir_okay=False)


def _manual(days: int | None, calendar_days: bool) -> Manual | None:
    return Manual.parse(days, "calendar" if calendar_days else "working")


# --- inbox ----------------------------------------------------------------------------------
def _show_opened(item: Opened) -> None:
    out = console()
    head = f"[bold]{item.kind} {item.submission_id}[/bold] · case {item.case_label}"
    out.print(f"{head} · received {item.received_date}" + ("" if item.new else " · opened before"))
    if item.problem:
        out.print(f"  [red]PROBLEM[/red]: {item.problem}")
        return
    doc = item.doc
    if item.kind == "report":
        reported = doc.get("reported", {})
        out.print(f"  title:    {doc.get('title', '')}", markup=False)
        out.print(
            f"  reported: {reported.get('name', '')} / {reported.get('unit', '')} / "
            f"{reported.get('post', '')} / rank {reported.get('rank', '')}",
            markup=False,
        )
        out.print(
            f"  region {doc.get('region', '')} · problem type {doc.get('problem_type', '')}",
            markup=False,
        )
        if doc.get("real_name"):
            ident = doc.get("identity", {})
            out.print(
                f"  real name: {ident.get('name', '')}, contact {ident.get('contact', '')}",
                markup=False,
            )
        else:
            out.print("  anonymous")
    else:
        rating = f" · rating {doc.get('rating')}" if doc.get("type") == "satisfaction" else ""
        out.print(f"  follow-up: {doc.get('type')}{rating}", markup=False)
    if doc.get("text"):
        out.print("  " + str(doc["text"]).replace("\n", "\n  "), markup=False)
    for a in item.attachments:
        out.print(f"  attachment: {a.name} ({a.type}, {len(a.data)} bytes)", markup=False)
    for problem in item.unlisted:
        out.print(f"  [red]PROBLEM[/red]: {problem}")
    if item.notice:
        out.print(f"  [yellow]→ {item.notice}[/yellow]")


def _save_attachments(items: list[Opened], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for item in items:
        for i, a in enumerate(item.attachments):
            safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(a.name).name)
            (folder / f"{item.submission_id}-{i}-{safe or 'file'}").write_bytes(a.data)


@desk_group.command("inbox")
@with_settings
@with_format
@click.option("--all", "include_opened", is_flag=True, help="Also show submissions opened before.")
@click.option("--case", "case", default=None, help="Show every submission of one case.")
@click.option("--peek", is_flag=True, help="Show without marking anything opened.")
@click.option(
    "--save-attachments",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write attachments into this folder.",
)
def inbox_command(
    settings: Settings,
    fmt: str,
    include_opened: bool,
    case: str | None,
    peek: bool,
    save_attachments: Path | None,
) -> None:
    """Verify, open and show new reports and follow-ups; mark them opened.

    Satisfaction answers are recorded on their case. A key that cannot open a submission
    refuses the whole command and changes nothing.
    """
    with settings.desk() as desk:
        keys = desk_keys(desk)
        items = open_inbox(desk, keys, include_opened=include_opened, case=case, peek=peek)
        if save_attachments is not None:
            _save_attachments(items, save_attachments)
            saved = [i for i in items if i.attachments]
            with desk.transaction():
                for i in saved:
                    desk.event(
                        i.case_id,
                        "read",
                        {"what": "attachments-saved", "submission": i.submission_id},
                    )
            if saved:
                click.echo(
                    f"Warning: attachments written to {save_attachments} are PLAINTEXT; "
                    "the read log records it. Delete them when done.",
                    err=True,
                )
        if fmt != "table":
            rows = [i.as_dict() for i in items]
            flat = [
                {
                    **r,
                    "title": r["document"].get("title", ""),
                    "unlisted": "; ".join(r["unlisted"]),
                    "document": json.dumps(r["document"], ensure_ascii=False),
                }
                for r in rows
            ]
            columns = [
                ("submission", ""),
                ("case", ""),
                ("case_label", ""),
                ("kind", ""),
                ("received_date", ""),
                ("new", ""),
                ("title", ""),
                ("problem", ""),
                ("notice", ""),
                ("unlisted", ""),
                ("document", ""),
            ]
            emit(flat, columns, fmt, json_doc=rows)
            return
        for item in items:
            _show_opened(item)
            if item.kind == "report" and item.new and not item.problem:
                echo(f"  suggested: lianxin desk {suggest_registration(desk, item)}")
            echo("")
        problems = sum(1 for i in items if i.problem)
        unlisted = sum(1 for i in items if i.unlisted)
        listed = f"; {unlisted} with codes outside the lists" if unlisted else ""
        summary = f"{len(items)} submission(s); {problems} with problems{listed}."
        echo(summary if items else "Inbox empty.")
    if problems:
        raise click.exceptions.Exit(1)


@desk_group.command("file")
@with_settings
@click.argument("case")
@click.argument("file")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Write it to this file, or into this folder under its safe name"
    " [default: its safe name in the current folder].",
)
def file_command(settings: Settings, case: str, file: str, out: Path | None) -> None:
    """Save one attachment or note file of a case (FILE as `desk show` lists it: s3.0, n5).

    The read log records the read (the reference and the size, not the name). The file
    written is PLAINTEXT: delete it when done.
    """
    with settings.desk() as desk:
        opened = read_case_file(desk, case, desk_keys(desk), file)
    target = out if out is not None else Path(opened.safe_name())
    if target.is_dir():
        target = target / opened.safe_name()
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(opened.data)
    except OSError as exc:
        raise BadValue(f"cannot write {target}: {exc.strerror}", "--out") from exc
    echo(f"Wrote {target} ({len(opened.data)} bytes, PLAINTEXT; the read is in the read log).")


# --- intake ---------------------------------------------------------------------------------
def _load_report(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadValue(f"cannot read {path} as JSON ({exc})", "--report") from exc
    if not isinstance(doc, dict):
        raise BadValue(f"{path}: expected a JSON object", "--report")
    doc.pop("schema", None)
    return doc


def _print_slip(slip: Slip) -> None:
    lines = [
        "连心 Lianxin — 查询凭条 tracking slip",
        f"收件 received:  {slip.received_date}  ({slip.channel})",
        f"案件 case:      #{slip.case_id}",
        "",
        f"    {slip.token}",
        "",
        "凭此码在门户网站查询办理进展、阅读答复、提交补充材料或评价。",
        "Use it on the portal to follow the case, read the answer, add material or rate it.",
        "请妥善保管，丢失无法找回。Keep it private: it cannot be recovered.",
    ]
    # Terminal cells, not characters: a Chinese character takes two columns.
    width = max(cell_len(line) for line in lines)
    echo("+" + "-" * (width + 2) + "+")
    for line in lines:
        echo("| " + line + " " * (width - cell_len(line)) + " |")
    echo("+" + "-" * (width + 2) + "+")


@desk_group.command("intake")
@with_settings
@click.option("--channel", required=True, help="letter, visit, phone, complaint_box, ...")
@click.option("--received", default=None, metavar="YYYY-MM-DD", help="Day it arrived [today].")
@click.option("--report", "report_file", type=_FILE, default=None, help="The report as JSON.")
@click.option("--title", default=None, help="Title or summary.")
@click.option("--text", default=None, help="What is reported.")
@click.option("--text-file", type=_FILE, default=None, help="Read the text from a file.")
@click.option("--reported-name", default="", help="Name of the reported person or body.")
@click.option("--reported-unit", default="", help="Their unit.")
@click.option("--reported-post", default="", help="Their post.")
@click.option("--rank", default="", help="Their rank code (ranks.yaml).")
@click.option("--region", default="", help="Region code (regions.yaml).")
@click.option("--problem-type", default="", help="Problem type code (problem_types.yaml).")
@click.option("--real-name", is_flag=True, help="The reporter gives their name and contact.")
@click.option("--name", default="", help="Reporter's name (real-name reports).")
@click.option("--contact", default="", help="Reporter's contact (real-name reports).")
@click.option("--id-number", default="", help="Reporter's ID number (optional).")
@click.option("--attach", type=_FILE, multiple=True, help="A scanned letter or other file.")
def intake_command(
    settings: Settings,
    channel: str,
    received: str | None,
    report_file: Path | None,
    title: str | None,
    text: str | None,
    text_file: Path | None,
    reported_name: str,
    reported_unit: str,
    reported_post: str,
    rank: str,
    region: str,
    problem_type: str,
    real_name: bool,
    name: str,
    contact: str,
    id_number: str,
    attach: tuple[Path, ...],
) -> None:
    """Register a report that came by letter, visit, phone or box; print its token slip."""
    from .values import parse_day

    day = parse_day(received, "--received") if received else None
    if report_file is not None:
        if title or text or text_file or reported_name:
            raise BadValue("give --report or the report's fields, not both", "--report")
        doc = _load_report(report_file)
    else:
        body = read_text_option(text, text_file, "--text")
        doc = report_from_options(
            title=title or "",
            text=body or "",
            reported_name=reported_name,
            reported_unit=reported_unit,
            reported_post=reported_post,
            rank=rank,
            region=region,
            problem_type=problem_type,
            real_name=real_name,
            name=name,
            contact=contact,
            id_number=id_number,
        )
    attachments = []
    for path in attach:
        try:
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            attachments.append(Attachment(path.name, kind, path.read_bytes()))
        except OSError as exc:
            raise BadValue(f"cannot read {path}: {exc.strerror}", "--attach") from exc
    with settings.desk() as desk:
        keys = desk_keys(desk)
        slip = intake(
            desk, keys, doc, channel=channel, received=day, attachments=tuple(attachments)
        )
    _print_slip(slip)
    echo(f"Case #{slip.case_id} received. Next: lianxin desk register {slip.case_id} ...")


# --- register, route, extend, not accepted, note -----------------------------------------------
@desk_group.command("register")
@with_settings
@click.argument("case")
@click.option("--item-type", default=None, help="accusation, appeal, suggestion, out_of_scope, ...")
@click.option(
    "--problem-type", default=None, help="A second-level problem type, e.g. integrity.gifts."
)
@click.option("--rank", default=None, help="Rank of the reported person (ranks.yaml).")
@click.option("--region", default=None, help="Region code (regions.yaml).")
@click.option("--real-name", default=None, help="anonymous, claimed or verified.")
@click.option("--source", default=None, help="own (own intake) or assigned (from above).")
@click.option("--repeat-of", default=None, help="The case this one repeats.")
@click.option(
    "--escalated/--not-escalated",
    default=None,
    help="Sent over the head of the proper level (越级).",
)
@click.option("--tag", "tags", multiple=True, help="Add a special-ledger tag (repeatable).")
@click.option("--remove-tag", "remove", multiple=True, help="Remove a tag (repeatable).")
def register_command(
    settings: Settings,
    case: str,
    item_type: str | None,
    problem_type: str | None,
    rank: str | None,
    region: str | None,
    real_name: str | None,
    source: str | None,
    repeat_of: str | None,
    escalated: bool | None,
    tags: tuple[str, ...],
    remove: tuple[str, ...],
) -> None:
    """Register (number and classify) a case, or correct its registration.

    An in-scope item is accepted (受理); an out-of-scope one waits to be forwarded or not
    accepted.
    """
    form = Registration(
        item_type=item_type,
        problem_type=problem_type,
        rank=rank,
        region=region,
        real_name=real_name,
        source=source,
        repeat_of=repeat_of,
        escalated=escalated,
        add_tags=tags,
        remove_tags=remove,
    )
    with settings.desk() as desk:
        result = register(desk, case, form)
    due = f", due {result.due_date}" if result.due_date else ""
    echo(f"Case {result.label} registered: {state_label(result.state)}{due}.")


@desk_group.command("route")
@with_settings
@click.argument("case")
@click.option(
    "--assign", "assign_to", default=None, metavar="UNIT", help="Assign (交办) to an internal unit."
)
@click.option(
    "--forward", is_flag=True, help="Forward (转办) out of scope to a competent authority."
)
@click.option("--direct", is_flag=True, help="Handle directly (直查快办).")
@click.option("--unit", default=None, help="With --direct: the unit that handles it.")
@click.option("--to", default=None, help="With --forward: an external unit code (units.yaml).")
@click.option("--to-name", default=None, help="With --forward: an authority not in the list.")
@days_option
def route_command(
    settings: Settings,
    case: str,
    assign_to: str | None,
    forward: bool,
    direct: bool,
    unit: str | None,
    to: str | None,
    to_name: str | None,
    days: int | None,
    calendar_days: bool,
) -> None:
    """Assign, forward or handle directly; the deadline comes from the policy or --days."""
    modes = [m for m, on in (("assign", assign_to), ("forward", forward), ("direct", direct)) if on]
    if len(modes) != 1:
        raise BadValue("give exactly one of --assign UNIT, --forward, --direct", "--assign")
    if assign_to and unit:
        raise BadValue("--assign names the unit already", "--unit")
    plan = Route(
        modes[0],
        unit=assign_to or unit,
        to=to,
        to_name=to_name,
        manual=_manual(days, calendar_days),
    )
    with settings.desk() as desk:
        result = route(desk, case, plan)
    where = result.unit or result.forwarded_to or "the office"
    flag = " (provisional: no holiday data for that year)" if result.due_uncertain else ""
    echo(
        f"Case {result.label}: {state_label(result.state)} → {where}, due {result.due_date}{flag}."
    )


@desk_group.command("extend")
@with_settings
@click.argument("case")
@click.option("--reason", required=True, help="Why (sealed as a note).")
@days_option
def extend_command(
    settings: Settings, case: str, reason: str, days: int | None, calendar_days: bool
) -> None:
    """Extend the handling deadline (the policy's extension, or --days for hand-set ones)."""
    with settings.desk() as desk:
        keys = desk_keys(desk)
        result = extend(desk, case, keys, reason, _manual(days, calendar_days))
    echo(f"Case {result.label}: due {result.due_date} (extension {result.extensions}).")


@desk_group.command("not-accepted")
@with_settings
@click.argument("case")
@click.option("--reason", required=True, help="Why (sealed as a note).")
def not_accepted_command(settings: Settings, case: str, reason: str) -> None:
    """Do not accept a registered case (不予受理), with a reason."""
    with settings.desk() as desk:
        keys = desk_keys(desk)
        result = not_accepted(desk, case, keys, reason)
    echo(f"Case {result.label}: {state_label(result.state)}.")


@desk_group.command("note")
@with_settings
@click.argument("case")
@click.option("--text", default=None, help="The investigation step or what the document is.")
@click.option("--text-file", type=_FILE, default=None, help="Read the text from a file.")
@click.option("--document", is_flag=True, help="This note records a document received.")
@click.option(
    "--answer-draft",
    is_flag=True,
    help="This note is a draft of the answer to the reporter (sent later with answer; the web"
    " desk's answer form starts from the latest draft).",
)
@click.option("--reference", default="", help="Archive number or other reference.")
@click.option("--file", "file", type=_FILE, default=None, help="A file to seal with the note.")
def note_command(
    settings: Settings,
    case: str,
    text: str | None,
    text_file: Path | None,
    document: bool,
    answer_draft: bool,
    reference: str,
    file: Path | None,
) -> None:
    """Record an investigation step, a document received, or a draft of the answer to the
    reporter, sealed to the office key (or the case key once registered)."""
    if document and answer_draft:
        raise click.BadParameter(
            "give --document or --answer-draft, not both", param_hint="--answer-draft"
        )
    body = read_text_option(text, text_file, "--text") or ""
    with settings.desk() as desk:
        keys = desk_keys(desk)
        kind = "document" if document else "draft" if answer_draft else "step"
        note_id = add_note(desk, case, keys, text=body, reference=reference, file=file, kind=kind)
    echo(f"Note {note_id} sealed to the office key.")
