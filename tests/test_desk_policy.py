"""Deadline policies: the presets hold the regulations' numbers, local files extend them, and
bad settings are refused with ``file:line: field: problem``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lianxin.domain.errors import DataFileError, DomainError, PolicyNotFoundError
from lianxin.domain.policy import Counting, Span, SpanUnit, load_policy, presets

WD = SpanUnit.WORKING
CAL = SpanUnit.CALENDAR


def test_presets() -> None:
    assert presets() == ("cn-jijian-2020", "cn-xinfang-2022", "eu-2019-1937")
    for name in presets():
        policy = load_policy(name)
        assert policy.name == name
        assert policy.version == "2026.1"
        assert policy.file == f"lianxin/domain/data/policies/{name}.yaml"
        assert policy.extends is None


def test_jijian_2020_values() -> None:
    policy = load_policy("cn-jijian-2020")
    assert policy.warning == Span(5, WD)  # seed 003
    assert policy.counting == Counting(shift_rest_day_start=True, roll_rest_day_end=True)
    spans = {r.code: (r.start_event, r.span, r.real_name_only) for r in policy.rules}
    assert spans == {
        "forward_up": ("received", Span(5, WD), False),  # Art. 15
        "accept_or_forward": ("received", Span(5, WD), False),  # Art. 16
        "acknowledge_real_name": ("received", Span(15, WD), True),
        "answer_real_name": ("concluded", Span(15, WD), True),
        "inquiry_reply": ("inquiry_delivered", Span(15, WD), False),
        # The office loop's local practice (no national number): signing for, rework.
        "sign_for": ("assigned", Span(2, WD), False),
        "rework": ("report_returned", Span(10, WD), False),
    }
    national = [r for r in policy.rules if r.code not in ("sign_for", "rework")]
    assert all(r.warning == Span(5, WD) and r.max_extensions == 0 for r in national)
    assert policy.rule("sign_for").warning == Span(1, WD)
    assert policy.rule("rework").warning == Span(3, WD)
    assert all(r.counting == policy.counting for r in policy.rules)
    assert "Art. 15" in policy.rule("forward_up").source


def test_xinfang_2022_values() -> None:
    policy = load_policy("cn-xinfang-2022")
    handle = policy.rule("handle")
    assert (handle.start_event, handle.span) == ("accepted", Span(60, CAL))
    assert (handle.max_extensions, handle.extension) == (1, Span(30, CAL))  # Art. 34
    assert policy.rule("register_forward").span == Span(15, CAL)  # Art. 22
    assert policy.rule("notify").span == Span(15, CAL)  # Art. 23
    assert policy.rule("object_referral").span == Span(5, WD)  # Art. 23, the one working-day rule
    windows = {
        code: (policy.rule(code).start_event, policy.rule(code).span)
        for code in ("review_request", "review_answer", "rereview_request", "rereview_answer")
    }
    assert windows == {  # Arts. 35 and 36
        "review_request": ("answered", Span(30, CAL)),
        "review_answer": ("review_requested", Span(30, CAL)),
        "rereview_request": ("review_answered", Span(30, CAL)),
        "rereview_answer": ("rereview_requested", Span(30, CAL)),
    }


def test_eu_values() -> None:
    policy = load_policy("eu-2019-1937")
    assert policy.rule("acknowledge").span == Span(7, CAL)  # Art. 9(1)(b)
    assert policy.rule("feedback").span == Span(3, SpanUnit.MONTHS)  # Art. 9(1)(f)
    external = policy.rule("feedback_external")
    assert (external.max_extensions, external.extension) == (1, Span(3, SpanUnit.MONTHS))
    assert policy.counting == Counting(shift_rest_day_start=False, roll_rest_day_end=False)
    assert policy.warning == Span(7, CAL)
    assert str(external.span) == "3 months"
    assert str(policy.warning) == "7 calendar days"


def test_rule_lookups() -> None:
    policy = load_policy("cn-jijian-2020")
    assert [r.code for r in policy.rules_from("concluded")] == ["answer_real_name"]
    with pytest.raises(DomainError, match="has no rule 'handle'"):
        policy.rule("handle")


def test_unknown_preset() -> None:
    with pytest.raises(PolicyNotFoundError, match="no policy preset 'cn-2099'"):
        load_policy("cn-2099")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "local.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


LOCAL = """
    version: "2026.1"
    name: county-local
    extends: cn-jijian-2020
    warning: {days: 3, unit: working}
    rules:
      - code: answer_real_name
        zh: 实名举报办结后答复
        en: Answer the real-name reporter
        from: concluded
        days: 5
        unit: working
        real_name_only: true
        source: seed 003
      - code: assigned_report
        zh: 交办件办结报告
        en: Completion report for an assigned item
        from: assigned
        days: 30
        unit: calendar
        warning: {days: 7, unit: calendar}
        source: county practice
"""


def test_local_file_extends_a_preset(tmp_path: Path) -> None:
    path = _write(tmp_path, LOCAL)
    for given in (path, str(path)):
        policy = load_policy(given)
        assert (policy.name, policy.extends, policy.file) == (
            "county-local",
            "cn-jijian-2020",
            str(path),
        )
        assert policy.zh == load_policy("cn-jijian-2020").zh  # inherited
        assert policy.rule("answer_real_name").span == Span(5, WD)  # seed 003 replaces 15
        assert policy.rule("forward_up").span == Span(5, WD)  # inherited
        # The local default warning reaches inherited rules; a rule's own warning stays.
        assert policy.rule("forward_up").warning == Span(3, WD)
        assert policy.rule("assigned_report").warning == Span(7, CAL)
        codes = [r.code for r in policy.rules]
        assert codes.index("answer_real_name") == 3  # replaced in place
        assert codes[-1] == "assigned_report"


def test_standalone_file_needs_every_top_level_field(tmp_path: Path) -> None:
    path = _write(tmp_path, LOCAL.replace("    extends: cn-jijian-2020\n", ""))
    with pytest.raises(DataFileError) as caught:
        load_policy(path)
    assert str(caught.value) == f"{path}:1: missing field 'zh'"


def _refused(tmp_path: Path, rule_lines: str, top: str = "") -> str:
    """Load a one-rule policy with ``rule_lines`` in its rule; return the message after the path."""
    body = textwrap.indent(textwrap.dedent(rule_lines).strip("\n"), "    ")
    text = (
        'version: "2026.1"\n'
        "name: test\n"
        "zh: 测试\n"
        "en: Test\n"
        "source: test\n"
        "counting: {shift_rest_day_start: true, roll_rest_day_end: true}\n"
        f"{top or 'warning: {days: 5, unit: working}'}\n"
        "rules:\n"
        "  - code: r\n"
        "    zh: 规则\n"
        "    en: Rule\n"
        "    source: test\n"
        f"{body}\n"
    )
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:")
    return message[len(f"{path}:") :]


def test_negative_days(tmp_path: Path) -> None:
    lines = "from: received\ndays: -3\nunit: working"
    assert _refused(tmp_path, lines) == "14: rules[0].days: -3 is out of range (1..365)"


def test_absurd_days(tmp_path: Path) -> None:
    lines = "from: received\ndays: 600\nunit: calendar"
    assert _refused(tmp_path, lines) == "14: rules[0].days: 600 is out of range (1..365)"


def test_absurd_months(tmp_path: Path) -> None:
    assert _refused(tmp_path, "from: received\nmonths: 36") == (
        "14: rules[0].months: 36 is out of range (1..24)"
    )


def test_unknown_unit(tmp_path: Path) -> None:
    lines = "from: received\ndays: 5\nunit: business"
    assert _refused(tmp_path, lines) == (
        "15: rules[0].unit: 'business' is not one of: calendar, working"
    )


def test_months_with_unit(tmp_path: Path) -> None:
    lines = "from: received\nmonths: 3\nunit: calendar"
    assert _refused(tmp_path, lines) == (
        "15: rules[0].unit: months are calendar months; drop 'unit'"
    )


def test_days_and_months(tmp_path: Path) -> None:
    lines = "from: received\ndays: 5\nmonths: 3"
    assert (
        _refused(tmp_path, lines) == "14: rules[0].days: give either 'days' or 'months', not both"
    )


def test_missing_length(tmp_path: Path) -> None:
    assert _refused(tmp_path, "from: received") == (
        "9: rules[0]: missing field 'days' (or 'months')"
    )


def test_unknown_event(tmp_path: Path) -> None:
    lines = "from: recieved\ndays: 5\nunit: working"
    message = _refused(tmp_path, lines)
    assert message.startswith("13: rules[0].from: 'recieved' is not one of: accepted, ")


def test_extension_settings(tmp_path: Path) -> None:
    lines = "from: accepted\ndays: 60\nunit: calendar\nmax_extensions: 1"
    assert _refused(tmp_path, lines) == (
        "16: rules[0].max_extensions: 'extension' is missing: how long is one extension?"
    )
    lines = "from: accepted\ndays: 60\nunit: calendar\nextension: {days: 30, unit: calendar}"
    assert _refused(tmp_path, lines) == (
        "16: rules[0].extension: an extension needs 'max_extensions' of at least 1"
    )
    lines = "from: accepted\ndays: 60\nunit: calendar\nmax_extensions: 9"
    assert _refused(tmp_path, lines) == "16: rules[0].max_extensions: 9 is out of range (0..5)"
    lines = (
        "from: accepted\ndays: 60\nunit: calendar\nmax_extensions: 1\n"
        "extension: {days: 10, unit: working}"
    )
    assert _refused(tmp_path, lines) == (
        "17: rules[0].extension: counted in working, the rule in calendar"
    )


def test_warning_settings(tmp_path: Path) -> None:
    lines = "from: received\ndays: 5\nunit: working"
    assert _refused(tmp_path, lines, top="warning: {days: 90, unit: working}") == (
        "7: warning.days: 90 is out of range (0..60)"
    )
    assert _refused(tmp_path, lines, top="warning: {months: 1}") == (
        "7: warning.months: unknown field (allowed: days, unit)"
    )
    assert _refused(tmp_path, lines + "\nwarning: {days: -1, unit: working}") == (
        "16: rules[0].warning.days: -1 is out of range (0..60)"
    )


def test_wrong_types_and_unknown_fields(tmp_path: Path) -> None:
    lines = "from: received\ndays: 5\nunit: working\nreal_name_only: sometimes"
    assert _refused(tmp_path, lines) == (
        "16: rules[0].real_name_only: expected true/false, got a string"
    )
    lines = "from: received\ndays: '5'\nunit: working"
    assert _refused(tmp_path, lines) == "14: rules[0].days: expected an integer, got a string"
    lines = "from: received\ndays: 5\nunit: working\ndeadline: soon"
    assert _refused(tmp_path, lines).startswith("16: rules[0].deadline: unknown field (allowed: ")


def test_counting_must_be_complete(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    text = _write(tmp_path, LOCAL).read_text(encoding="utf-8")
    path.write_text(text + "counting: {shift_rest_day_start: true}\n", encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_policy(path)
    assert str(caught.value) == f"{path}:22: counting: missing field 'roll_rest_day_end'"


def test_duplicate_rule_code(tmp_path: Path) -> None:
    text = LOCAL + textwrap.indent(
        textwrap.dedent(
            """
              - code: assigned_report
                zh: 交办件
                en: Assigned
                from: assigned
                days: 20
                unit: calendar
                source: again
            """
        ).strip("\n"),
        "      ",
    )
    path = _write(tmp_path, text)
    with pytest.raises(DataFileError) as caught:
        load_policy(path)
    assert str(caught.value) == f"{path}:22: rules[2].code: duplicate rule code 'assigned_report'"


def test_extends_an_unknown_preset(tmp_path: Path) -> None:
    path = _write(tmp_path, LOCAL.replace("cn-jijian-2020", "cn-jijian-2099"))
    with pytest.raises(DataFileError) as caught:
        load_policy(path)
    assert str(caught.value).startswith(f"{path}:3: extends: unknown preset 'cn-jijian-2099'")


def test_bad_policy_name(tmp_path: Path) -> None:
    path = _write(tmp_path, LOCAL.replace("county-local", "County Local"))
    with pytest.raises(DataFileError) as caught:
        load_policy(path)
    assert str(caught.value) == (
        f"{path}:2: name: 'County Local' is not a policy name "
        "(lower-case ascii letters, digits, '-')"
    )
