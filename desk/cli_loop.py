"""``lianxin desk`` commands of the office loop: screen (甄别), approve (审批), sign-for (签收),
report (办结报告), check (审核), supervise (督办), letter (转办函), forward-reply (转办回复),
acknowledge (受理告知) and inquiry (谈话函询), and retention (到期销毁). Each calls one library
function."""

from __future__ import annotations

from pathlib import Path

import click

from .approval import Proposal, approve, return_proposal, screen
from .casekeys import desk_keys
from .cases import load_case
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
from .duties import acknowledge, inquiry_delivered, inquiry_replied
from .forwarding import forward_reply
from .letters import LETTERS, issue_letter, office_templates
from .lifecycle import case_stage
from .output import emit
from .refusals import BadValue
from .retention import destroy_due, list_due
from .supervise import KINDS, supervise
from .unitwork import accept_report, return_report, sign_for, submit_report

_FILE = click.Path(path_type=Path, dir_okay=False)


@desk_group.command("screen")
@with_settings
@click.argument("case")
@click.option(
    "--propose",
    required=True,
    help="assign, forward, direct or not_accepted: the disposition proposed to the approver.",
)
@click.option("--unit", default=None, help="assign, direct: the internal unit (units.yaml).")
@click.option("--to", default=None, help="forward: an external unit code or the authority's name.")
@click.option("--disposition", default=None, help="talk_inquiry, preliminary_check, ...")
@click.option("--opinion", default=None, help="The proposal's grounds (拟办意见; sealed).")
@click.option("--opinion-file", type=_FILE, default=None, help="Read the opinion from a file.")
def screen_command(
    settings: Settings,
    case: str,
    propose: str,
    unit: str | None,
    to: str | None,
    disposition: str | None,
    opinion: str | None,
    opinion_file: Path | None,
) -> None:
    """Screen (甄别) a registered case: propose a disposition for the approver (registrar)."""
    text = read_text_option(opinion, opinion_file, "--opinion") or ""
    proposal = Proposal(propose, text, unit=unit, to=to, disposition=disposition)
    with settings.desk() as desk:
        result = screen(desk, case, proposal)
    echo(f"Case {result.label}: {case_stage(result)}: proposed {propose}.")


@desk_group.command("approve")
@with_settings
@click.argument("case")
@click.option("--return", "send_back", is_flag=True, help="Return the proposal (审批退回).")
@click.option("--reason", default=None, help="With --return: why (sealed as a note).")
@click.option("--comment", default=None, help="Approving: a comment (sealed as a note).")
def approve_command(
    settings: Settings, case: str, send_back: bool, reason: str | None, comment: str | None
) -> None:
    """Approve (审批) a screened case's proposal, or --return it with a reason (approver)."""
    if send_back and comment:
        raise BadValue("returning takes --reason, not --comment", "--comment")
    if reason and not send_back:
        raise BadValue("a reason is for --return; approving takes --comment", "--reason")
    with settings.desk() as desk:
        if send_back:
            result = return_proposal(desk, case, reason or "")
        else:
            result = approve(desk, case, comment or "")
    echo(f"Case {result.label}: {case_stage(result)}.")


@desk_group.command("sign-for")
@with_settings
@click.argument("case")
def sign_for_command(settings: Settings, case: str) -> None:
    """Sign for (签收) a case assigned to your unit (handler of that unit)."""
    with settings.desk() as desk:
        result = sign_for(desk, case)
    late = ""
    if result.sign_due and result.signed_date and result.signed_date > result.sign_due:
        late = f" (late: the signing deadline was {result.sign_due})"
    echo(f"Case {result.label}: {case_stage(result)} on {result.signed_date}{late}.")


@desk_group.command("report")
@with_settings
@click.argument("case")
@click.option("--outcome", required=True, help="substantiated, partly, unsubstantiated, ...")
@click.option("--disposition", default=None, help="talk_inquiry, preliminary_check, ...")
@click.option("--text", default=None, help="The completion report (书面报告; sealed).")
@click.option("--text-file", type=_FILE, default=None, help="Read the report from a file.")
def report_command(
    settings: Settings,
    case: str,
    outcome: str,
    disposition: str | None,
    text: str | None,
    text_file: Path | None,
) -> None:
    """Send the completion report (办结报告) of a case your unit signed for (handler)."""
    body = read_text_option(text, text_file, "--text") or ""
    with settings.desk() as desk:
        result = submit_report(desk, case, outcome, body, disposition=disposition)
    echo(f"Case {result.label}: {case_stage(result)}.")


@desk_group.command("check")
@with_settings
@click.argument("case")
@click.option("--accept", is_flag=True, help="Accept the report: the case is concluded.")
@click.option("--return", "send_back", is_flag=True, help="Return it for rework (退回重报).")
@click.option("--reason", default=None, help="With --return: what to redo (sealed as a note).")
@click.option("--comment", default=None, help="With --accept: a comment (sealed as a note).")
@days_option
def check_command(
    settings: Settings,
    case: str,
    accept: bool,
    send_back: bool,
    reason: str | None,
    comment: str | None,
    days: int | None,
    calendar_days: bool,
) -> None:
    """Check (审核) a unit's completion report: --accept, or --return with a reason and a new
    deadline (the policy's rework rule, or --days) (approver)."""
    if accept == send_back:
        raise BadValue("give exactly one of --accept, --return", "--accept")
    if accept and (reason or days is not None):
        raise BadValue("--reason and --days are for --return", "--reason")
    if send_back and comment:
        raise BadValue("returning takes --reason, not --comment", "--comment")
    manual = Manual.parse(days, "calendar" if calendar_days else "working")
    with settings.desk() as desk:
        if accept:
            result = accept_report(desk, case, comment or "")
        else:
            result = return_report(desk, case, reason or "", manual=manual)
    if accept:
        due = f"; answer due {result.answer_due}" if result.answer_due else ""
        echo(f"Case {result.label}: {case_stage(result)}, outcome {result.outcome}{due}.")
    else:
        echo(f"Case {result.label}: {case_stage(result)}, new deadline {result.due_date}.")


@desk_group.command("supervise")
@with_settings
@click.argument("case")
@click.option("--kind", required=True, help="phone 电话督办, visit 实地督办, letter 督办函.")
@click.option("--reference", default="", help="E.g. the supervision letter's number.")
def supervise_command(settings: Settings, case: str, kind: str, reference: str) -> None:
    """Record a supervision action on an open case (supervisor); counted in the analysis."""
    with settings.desk() as desk:
        record = supervise(desk, case, kind, reference)
        label = load_case(desk.db, case).label
    zh, en = KINDS[kind]
    unit = record["unit"] or "the office"
    echo(f"Case {label}: {zh} ({en}) recorded, chasing {unit} at stage {record['stage']}.")


@desk_group.command("letter")
@with_settings
@click.argument("case")
@click.option(
    "--kind",
    default="forwarding",
    show_default=True,
    help="forwarding (转办函), supervision (督办函), not-accepted (不予受理告知书) or"
    " acceptance (受理告知书).",
)
@click.option("--format", "fmt", default="html", help="html (to print) or text.")
@click.option("--template", type=_FILE, default=None, help="The office's own Jinja2 template.")
@click.option("--out", type=_FILE, default=None, help="Write the letter here [standard output].")
def letter_command(
    settings: Settings, case: str, kind: str, fmt: str, template: Path | None, out: Path | None
) -> None:
    """Print one of the office's letters for a case: the forwarding letter of a forwarded case,
    the supervision letter of an open one, the notice of non-acceptance, or the acceptance
    notice to a real-name reporter. The office's own templates (templates/ under --data-dir)
    replace the bundled ones; the web desk prints the same."""
    with settings.desk() as desk:
        letter = issue_letter(
            desk,
            case,
            kind,
            fmt=fmt,
            template=template,
            office=office_templates(settings.data_dir),
        )
    if out is None:
        click.echo(letter.text, nl=False)
        return
    out.write_text(letter.text, encoding="utf-8")
    zh, en = LETTERS[kind]
    echo(f"{en[:1].upper()}{en[1:]} ({zh}) of case {letter.case.label} written to {out}.")


@desk_group.command("forward-reply")
@with_settings
@click.argument("case")
@click.option("--received", required=True, help="The day the reply arrived (YYYY-MM-DD).")
@click.option("--summary", default=None, help="What the authority replied (sealed as a note).")
@click.option("--summary-file", type=_FILE, default=None, help="The summary, from a file.")
@click.option("--file", type=_FILE, default=None, help="The scanned reply (sealed with the note).")
def forward_reply_command(
    settings: Settings,
    case: str,
    received: str,
    summary: str | None,
    summary_file: Path | None,
    file: Path | None,
) -> None:
    """Record the reply of the authority a case was forwarded to (转办回复): the case leaves the
    list of replies owed (registrar or approver). Give --summary, --file, or both."""
    text = read_text_option(summary, summary_file, "--summary") or ""
    with settings.desk() as desk:
        keys = desk_keys(desk)
        result = forward_reply(desk, case, keys, received=received, summary=text, file=file)
    on_time = (result.forward_reply_date or "") <= (result.forward_reply_due or "")
    late = "" if on_time else " (late)"
    echo(
        f"Case {result.label}: reply from {result.forwarded_to} recorded, received"
        f" {result.forward_reply_date}{late}; reply was due {result.forward_reply_due}."
    )


@desk_group.command("acknowledge")
@with_settings
@click.argument("case")
@click.option("--how", required=True, help="phone, letter, visit or sms.")
def acknowledge_command(settings: Settings, case: str, how: str) -> None:
    """Record the acceptance notice (受理告知) given to a real-name reporter (registrar)."""
    with settings.desk() as desk:
        result = acknowledge(desk, case, how)
    echo(f"Case {result.label}: acceptance notice recorded on {result.acknowledged_date} ({how}).")


@desk_group.command("inquiry")
@with_settings
@click.argument("case")
@click.option("--delivered", is_flag=True, help="The 谈话函询 letter reached the person asked.")
@click.option("--replied", is_flag=True, help="Their written reply arrived.")
def inquiry_command(settings: Settings, case: str, delivered: bool, replied: bool) -> None:
    """Record a talk-or-letter inquiry (谈话函询): --delivered, then --replied (approver, or a
    handler of the case's unit)."""
    if delivered == replied:
        raise BadValue("give exactly one of --delivered, --replied", "--delivered")
    with settings.desk() as desk:
        result = inquiry_delivered(desk, case) if delivered else inquiry_replied(desk, case)
    what = "delivered" if delivered else "replied"
    day = result.inquiry_delivered if delivered else result.inquiry_replied
    echo(f"Case {result.label}: inquiry {what} on {day}.")


@desk_group.command("retention")
@with_settings
@with_format
@click.option("--apply", "apply_", is_flag=True, help="Destroy what is listed (after listing).")
def retention_command(settings: Settings, fmt: str, apply_: bool) -> None:
    """List the material of closed cases past the policy's retention period; with --apply,
    destroy it (administrator). The bundled policies keep everything: an office sets periods in
    its own policy file (retention:). Backups and replicas keep the material until they expire."""
    with settings.desk() as desk:
        due = destroy_due(desk) if apply_ else list_due(desk)
    columns = [
        ("label", "case"),
        ("closed", "closed"),
        ("kind", "material"),
        ("expired", "destroyable from"),
        ("items", "rows"),
    ]
    title = "Destroyed" if apply_ else "Past its retention period (destroy with --apply)"
    emit([d.as_dict() for d in due], columns, fmt, title=title)
    if apply_ and fmt == "table":
        cases = len({d.case_id for d in due})
        echo(f"{cases} case(s): material destroyed, each recorded by a signed event.")
