"""Rendering the monthly analysis as Markdown (for staff and the commission's head) and CSV.

Both renderings come from one list of rows ``(section, code, zh, en, value)``, so the CSV holds
exactly the figures the Markdown shows. Rates are fractions in CSV and percentages in Markdown;
a rate with nothing to divide by is ``n/a``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lianxin.domain.taxonomy import Catalogue, E

from .analysis import RATINGS, Analysis
from .context import Desk
from .lifecycle import REVIEW_KINDS, REVIEW_LABELS
from .supervise import KINDS as SUPERVISION_KINDS

Value = int | float | None

FIXED: dict[str, dict[object, tuple[str, str]]] = {
    "source": {"own": ("本级受理", "own intake"), "assigned": ("上级交办转办", "from above")},
    "real_name": {
        "anonymous": ("匿名", "anonymous"),
        "claimed": ("署名（未核实）", "claimed real name"),
        "verified": ("实名（已核实）", "verified real name"),
    },
    "decision": {
        "accepted": ("受理", "accepted"),
        "not_accepted": ("不予受理", "not accepted"),
        "forwarded": ("转办", "forwarded"),
        "pending": ("待处理", "awaiting a decision"),
    },
    "rating": {
        "satisfied": ("满意", "satisfied"),
        "basically": ("基本满意", "basically satisfied"),
        "not": ("不满意", "not satisfied"),
        "none": ("未评价", "no answer"),
    },
}
SECTIONS = {
    "received": ("收件总数", "Received"),
    "channel": ("按渠道", "By channel"),
    "item_type": ("按件类", "By item type"),
    "problem_type": ("按问题类别", "By problem type"),
    "problem_subtype": ("按问题细类", "By problem subtype"),
    "rank": ("按被反映人级别", "By rank of the reported person"),
    "region": ("按地区", "By region"),
    "tag": ("按专项台账", "By special ledger"),
    "source": ("按来源", "By source"),
    "real_name": ("实名情况", "Real name"),
    "decision": ("受理情况（本月收件）", "Decisions on this month's items"),
    "handling": ("办理情况", "Handling"),
    "real_name_answers": ("实名举报反馈", "Real-name answers"),
    "satisfaction": ("满意度（本月反馈）", "Satisfaction with this month's answers"),
    "after_review": (
        "满意度（二次反馈、复查复核后）",
        "Satisfaction after a second answer or review",
    ),
    "reviews": ("复查复核", "Reviews"),
    "repeat": ("重复与越级", "Repeat and escalated reports"),
    "verification": ("查实率", "Verification"),
    "warnings": ("预警督办", "Warnings issued"),
    "supervision": ("督办方式", "Supervision actions"),
    "units": ("承办部门", "By handling unit"),
}
HANDLING = (
    ("concluded", "本月办结", "concluded in the month"),
    ("open_at_end", "月末在办", "in progress at month end"),
    ("overdue_at_end", "月末超期", "overdue at month end"),
    ("on_time", "按期办结", "concluded on time"),
)
REAL_NAME_ROWS = (
    ("real_name_concluded", "本月办结的实名件", "verified real-name cases concluded"),
    ("real_name_answered_in_window", "期限内反馈", "answered within the window"),
    ("real_name_answered_late", "超期反馈", "answered late"),
    ("real_name_not_answered_due", "逾期未反馈", "not answered, window passed"),
    ("real_name_not_yet_due", "未到反馈期限", "not answered, window still open"),
)


@dataclass(frozen=True)
class Row:
    """One figure."""

    section: str
    code: str
    zh: str
    en: str
    value: Value
    rate: bool = False


def _label(catalogue: Catalogue[E], code: object) -> tuple[str, str]:
    entry = catalogue.get(str(code)) if code is not None else None
    if entry is None:
        return ("（未登记）", "(not registered)") if code is None else (str(code), str(code))
    return entry.zh, entry.en


def rows(desk: Desk, a: Analysis) -> Iterator[Row]:
    """Every figure of the analysis, in reading order."""
    tax = desk.taxonomy
    yield Row("received", "total", "收件", "received", a.received_total)
    catalogues: dict[str, Catalogue[Any]] = {
        "channel": tax.channels,
        "item_type": tax.item_types,
        "problem_type": tax.problem_types,
        "problem_subtype": tax.problem_types,
        "rank": tax.ranks,
        "region": tax.regions,
    }
    for dim, catalogue in catalogues.items():
        counts = a.received[dim]
        order = [c for c in catalogue.codes() if counts[c]] + [
            c for c in counts if c not in catalogue
        ]
        for code in order:
            if dim == "problem_subtype" and code is None:
                continue
            zh, en = _label(catalogue, code)
            parent = (
                tax.problem_types.get(str(code).split(".")[0]) if dim == "problem_subtype" else None
            )
            if parent is not None:  # "其他" alone says little: name the category too
                zh, en = f"{parent.zh}·{zh}", f"{parent.en}: {en}"
            yield Row(dim, str(code or "-"), zh, en, counts[code])
    for tag in tax.tags:
        if a.tags[tag.code]:
            yield Row("tag", tag.code, tag.zh, tag.en, a.tags[tag.code])
    for dim in ("source", "real_name", "decision"):
        counts = a.received[dim]
        for code, (zh, en) in FIXED[dim].items():
            yield Row(dim, str(code), zh, en, counts[code])
        if counts[None]:
            yield Row(dim, "-", "（未登记）", "(not registered)", counts[None])
    for code, zh, en in HANDLING:
        yield Row("handling", code, zh, en, a.flows[code])
    yield Row(
        "handling",
        "on_time_rate",
        "按期办结率",
        "on-time rate",
        a.rate("on_time", "concluded_with_due"),
        True,
    )
    for code, zh, en in REAL_NAME_ROWS:
        yield Row("real_name_answers", code, zh, en, a.flows[code])
    yield Row(
        "real_name_answers",
        "answer_rate",
        "实名反馈率（期限内）",
        "answered within the window",
        a.rate("real_name_answered_in_window", "real_name_concluded"),
        True,
    )
    for section, prefix, given in (
        ("satisfaction", "satisfaction", "answered"),
        ("after_review", "after_review", "second_answers"),
    ):
        yield Row(section, "answered", "反馈件数", "answers given", a.flows[given])
        for rating in (*RATINGS, "none"):
            zh, en = FIXED["rating"][rating]
            yield Row(section, rating, zh, en, a.flows[f"{prefix}_{rating}"])
        rated = sum(a.flows[f"{prefix}_{r}"] for r in RATINGS)
        happy = a.flows[f"{prefix}_satisfied"] + a.flows[f"{prefix}_basically"]
        yield Row(
            section,
            "rate",
            "满意率（含基本满意）",
            "satisfied or basically",
            happy / rated if rated else None,
            True,
        )
    yield Row("reviews", "open_now", "当前复查中", "under review now", a.flows["reviews_open_now"])
    for kind in REVIEW_KINDS:
        kzh, ken = REVIEW_LABELS[kind]
        for outcome in desk.outcomes:
            if outcome.stage == "review":
                value = a.flows[f"review:{kind}:{outcome.code}"]
                yield Row(
                    "reviews",
                    f"{kind}:{outcome.code}",
                    f"{kzh}·{outcome.zh}",
                    f"{ken}: {outcome.en}",
                    value,
                )
    repeat = a.received["repeat"][1]
    escalated = a.received["escalated"][1]
    total = a.received_total
    yield Row("repeat", "repeat", "重复件", "repeat reports", repeat)
    yield Row(
        "repeat", "repeat_rate", "重复率", "repeat rate", repeat / total if total else None, True
    )
    yield Row("repeat", "escalated", "越级件", "escalated reports", escalated)
    yield Row(
        "repeat",
        "escalated_rate",
        "越级率",
        "escalated rate",
        escalated / total if total else None,
        True,
    )
    yield Row(
        "verification",
        "with_finding",
        "有查实结论的办结件",
        "concluded with a finding",
        a.flows["with_finding"],
    )
    yield Row(
        "verification",
        "substantiated",
        "查实（含部分属实）",
        "substantiated (incl. partly)",
        a.flows["substantiated"],
    )
    yield Row(
        "verification",
        "rate",
        "查实率",
        "verification rate",
        a.rate("substantiated", "with_finding"),
        True,
    )
    for colour, zh, en in (
        ("red", "红色督办", "red (supervision)"),
        ("yellow", "黄色催办", "yellow (reminder)"),
    ):
        yield Row(
            "warnings", colour, zh, en, sum(n for (c, _u), n in a.warnings.items() if c == colour)
        )
    for kind, (kzh, ken) in SUPERVISION_KINDS.items():
        yield Row("supervision", kind, kzh, f"supervision {ken}", a.supervision[kind])
    for unit in sorted(a.by_unit):
        counts = a.by_unit[unit]
        entry = tax.units.get(unit)
        zh, en = (entry.zh, entry.en) if entry else (unit, unit)
        for code, czh, cen in HANDLING[:3]:
            yield Row("units", f"{unit}:{code}", f"{zh}·{czh}", f"{en}: {cen}", counts[code])


def _show(row: Row) -> str:
    if row.value is None:
        return "n/a"
    if row.rate:
        return f"{row.value * 100:.1f}%"
    return str(row.value)


def to_markdown(desk: Desk, a: Analysis, *, lang: str = "zh") -> str:
    """The analysis as a Markdown report."""
    zh = lang == "zh"
    title = "月分析" if zh else "Monthly analysis"
    made = desk.today.isoformat()  # the desk's clock: --today, or today in the office's zone
    lines = [
        f"# {title} {a.month}",
        "",
        f"{a.first.isoformat()} – {a.last.isoformat()}; "
        + (
            f"生成于 {made}；期限政策 {desk.policy_name}"
            if zh
            else f"made {made}; policy {desk.policy_name}"
        ),
    ]
    section = ""
    for row in rows(desk, a):
        if row.section != section:
            section = row.section
            head = SECTIONS[section][0 if zh else 1]
            columns = "| 项目 | 数值 |" if zh else "| Figure | Value |"
            lines += ["", f"## {head}", "", columns, "|---|---:|"]
        lines.append(f"| {row.zh if zh else row.en} | {_show(row)} |")
    return "\n".join(lines) + "\n"


def to_csv(desk: Desk, a: Analysis) -> str:
    """The analysis as CSV: month, section, code, labels, value (rates as fractions)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["month", "section", "code", "label_zh", "label_en", "value", "is_rate"])
    for row in rows(desk, a):
        value = "" if row.value is None else (f"{row.value:.4f}" if row.rate else row.value)
        writer.writerow([a.month, row.section, row.code, row.zh, row.en, value, int(row.rate)])
    return out.getvalue()
