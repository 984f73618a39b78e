"""``lianxin desk`` commands that conclude a case and answer the reporter."""

from __future__ import annotations

from pathlib import Path

import click

from .answers import answer, close, conclude, open_review, satisfaction, second_answer
from .casekeys import desk_keys
from .cli_common import Settings, days_option, desk_group, echo, read_text_option, with_settings
from .deadlines import Manual
from .lifecycle import state_label
from .messages import LABELS, send_message

_FILE = click.Path(path_type=Path, dir_okay=False)


@desk_group.command("conclude")
@with_settings
@click.argument("case")
@click.option("--outcome", required=True, help="substantiated, partly, unsubstantiated, ...")
@click.option("--disposition", default=None, help="talk_inquiry, preliminary_check, ...")
@click.option("--answer", "answer_text", default=None, help="Answer the reporter now.")
@click.option("--answer-file", type=_FILE, default=None, help="Read the answer from a file.")
def conclude_command(
    settings: Settings,
    case: str,
    outcome: str,
    disposition: str | None,
    answer_text: str | None,
    answer_file: Path | None,
) -> None:
    """Conclude (办结) with an outcome; with --answer, answer the reporter too.

    The answer is sealed to every tracking token of the case, so only a token holder can
    read it once the portal is published.
    """
    text = read_text_option(answer_text, answer_file, "--answer")
    with settings.desk() as desk:
        keys = desk_keys(desk)
        result = conclude(desk, case, keys, outcome, disposition=disposition, answer=text)
    due = (
        f"; answer due {result.answer_due}"
        if result.state == "concluded" and result.answer_due
        else ""
    )
    echo(f"Case {result.label}: {state_label(result.state)}{due}.")


@desk_group.command("answer")
@with_settings
@click.argument("case")
@click.option("--text", default=None, help="The answer to the reporter.")
@click.option("--text-file", type=_FILE, default=None, help="Read the answer from a file.")
def answer_command(settings: Settings, case: str, text: str | None, text_file: Path | None) -> None:
    """Answer (反馈) the reporter of a concluded case, sealed to every token of the case."""
    body = read_text_option(text, text_file, "--text") or ""
    with settings.desk() as desk:
        keys = desk_keys(desk)
        result = answer(desk, case, keys, body)
    echo(f"Case {result.label}: {state_label(result.state)}.")


@desk_group.command("message")
@with_settings
@click.argument("case")
@click.option(
    "--kind",
    required=True,
    help="question (问题), material (请补充材料: a request for more material) or acceptance"
    " (受理告知: an acceptance notice).",
)
@click.option("--text", default=None, help="The message to the reporter (2 000 characters).")
@click.option("--text-file", type=_FILE, default=None, help="Read the message from a file.")
def message_command(
    settings: Settings, case: str, kind: str, text: str | None, text_file: Path | None
) -> None:
    """Write to the reporter at any stage (registrar or approver), sealed to every token of the
    case: shown on the status page after the next publish; the reporter replies with a
    follow-up, which the inbox files on the case."""
    body = read_text_option(text, text_file, "--text") or ""
    with settings.desk() as desk:
        keys = desk_keys(desk)
        result = send_message(desk, case, keys, kind, body)
        today = desk.today.isoformat()
    zh, en = LABELS[kind]
    told = ""
    if kind == "acceptance" and result.acknowledged_date == today:
        told = " The acceptance notice (受理告知) is recorded as given."
    echo(
        f"Case {result.label}: {en} ({zh}) sealed for the reporter; shown after the next"
        f" publish.{told}"
    )


@desk_group.command("satisfaction")
@with_settings
@click.argument("case")
@click.argument("rating")
def satisfaction_command(settings: Settings, case: str, rating: str) -> None:
    """Record a satisfaction answer given by phone, letter or visit: satisfied, basically, not.

    Answers sent through the portal are recorded by ``inbox``.
    """
    with settings.desk() as desk:
        result = satisfaction(desk, case, rating)
    hint = f" Open a second answer or review: lianxin desk review {result.label} --kind ..."
    echo(f"Case {result.label}: satisfaction {rating}." + (hint if rating == "not" else ""))


@desk_group.command("review")
@with_settings
@click.argument("case")
@click.option(
    "--kind",
    required=True,
    help="second-answer (二次反馈), review (复查) or re-review (复核).",
)
@click.option("--reason", default="", help="The reporter's new questions (sealed as a note).")
@days_option
def review_command(
    settings: Settings,
    case: str,
    kind: str,
    reason: str,
    days: int | None,
    calendar_days: bool,
) -> None:
    """Reopen an answered case whose reporter is not satisfied, with its own deadline."""
    manual = Manual.parse(days, "calendar" if calendar_days else "working")
    with settings.desk() as desk:
        keys = desk_keys(desk)
        result = open_review(
            desk, case, kind.replace("-", "_"), manual=manual, keys=keys, reason=reason
        )
    echo(f"Case {result.label}: {state_label(result.state)}, due {result.review_due}.")


@desk_group.command("second-answer")
@with_settings
@click.argument("case")
@click.option("--outcome", required=True, help="upheld, supplemented or changed.")
@click.option("--text", default=None, help="The second answer to the reporter.")
@click.option("--text-file", type=_FILE, default=None, help="Read it from a file.")
def second_answer_command(
    settings: Settings, case: str, outcome: str, text: str | None, text_file: Path | None
) -> None:
    """Give the second answer (or the review answer); the case is answered again."""
    body = read_text_option(text, text_file, "--text") or ""
    with settings.desk() as desk:
        keys = desk_keys(desk)
        result = second_answer(desk, case, keys, body, outcome)
    echo(f"Case {result.label}: {state_label(result.state)} ({outcome}).")


@desk_group.command("close")
@with_settings
@click.argument("case")
def close_command(settings: Settings, case: str) -> None:
    """Close (结案) an answered case: the loop ends."""
    with settings.desk() as desk:
        result = close(desk, case)
    echo(f"Case {result.label}: {state_label(result.state)}.")
