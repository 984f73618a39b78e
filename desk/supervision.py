"""Issuing warnings and the supervision list (督办单).

Issuing records each red (督办) and yellow (催办提醒) case in the ``warnings`` table, which the
monthly analysis counts, with an event on the case. A case is warned once per colour and
deadline: issuing again the next day adds only what changed colour or is new.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from typing import Any

from .context import Desk
from .lifecycle import state_label
from .roles import desk_action
from .warnings import NO_UNIT, Flagged, WarningReport

STAGES = {
    "intake": "登记分流 registration",
    "handle": "办结 handling",
    "answer": "实名答复 real-name answer",
    "review": "复查/二次反馈 review",
    "rework": "退回重报 rework",
    "sign": "签收 signing for",
    "acknowledge": "实名受理告知 acceptance notice",
    "inquiry": "函询回复 inquiry reply",
    "forward": "转办回复 authority's reply",
}


def _already_warned(desk: Desk, item: Flagged) -> bool:
    for (data,) in desk.db.execute(
        "SELECT data FROM events WHERE case_id = ? AND type = 'warning-issued'", [item.case_id]
    ):
        doc = json.loads(data)
        if doc.get("colour") == item.colour and doc.get("due") == item.due:
            return True
    return False


@desk_action("warnings")
def issue_warnings(desk: Desk, report: WarningReport) -> list[Flagged]:
    """Record the red and yellow cases not yet warned for their current deadline; one
    transaction. Returns the warnings issued now."""
    issued = []
    day = report.today.isoformat()
    with desk.transaction():
        for item in [*report.flagged, *(r for r in report.replies if r.colour != "green")]:
            if _already_warned(desk, item):
                continue
            unit = None if item.unit == NO_UNIT else item.unit
            cursor = desk.db.execute(
                "INSERT INTO warnings (case_id, colour, unit, issued_date) VALUES (?, ?, ?, ?)",
                [item.case_id, item.colour, unit, day],
            )
            desk.event(
                item.case_id,
                "warning-issued",
                {
                    "warning": int(cursor.lastrowid or 0),
                    "colour": item.colour,
                    "due": item.due,
                    "stage": item.stage,
                },
            )
            issued.append(item)
    return issued


def unit_label(desk: Desk, code: str) -> str:
    """A unit's Chinese name (a named authority or '-' as it is)."""
    unit = desk.taxonomy.units.get(code)
    if unit is not None:
        return f"{unit.zh} ({code})"
    if code.startswith("office:"):  # assigned to a lower office (desk.linkwork)
        return f"下级机关 {code.removeprefix('office:')} ({code})"
    return "未分办 / 本室 (-)" if code == NO_UNIT else code


def _cells(item: Any) -> tuple[str, str, str]:
    """A supervision-list row's colour, case number and days, as every table shows them."""
    red = item.colour == "red"
    mark = {"red": "红 red", "yellow": "黄 yellow"}.get(item.colour, "绿 green")
    days = f"超期 {item.days} overdue" if red else f"剩 {item.days} left"
    return mark, item.number or f"#{item.case_id}", days


def supervision_markdown(desk: Desk, report: WarningReport, officer: str) -> str:
    """The supervision list: one section per unit, overdue cases (督办) then near ones (催办)."""
    by_unit: dict[str, list[Flagged]] = defaultdict(list)
    for item in report.flagged:
        by_unit[item.unit].append(item)
    lines = [
        f"# 督办单 Supervision list — {report.today.isoformat()}",
        "",
        f"签发 Issued by: {officer}",
        "",
        "红色 = 已超期，督办；黄色 = 临近期限，催办提醒。Red = overdue (supervise); "
        "yellow = deadline near (remind).",
        "",
    ]
    for unit in sorted(by_unit):
        items = by_unit[unit]
        lines += [f"## {unit_label(desk, unit)}", ""]
        lines += ["| 颜色 Colour | 编号 Number | 状态 State | 环节 Stage | 期限 Due | 天数 Days |"]
        lines += ["|---|---|---|---|---|---|"]
        for item in items:
            mark, number, days = _cells(item)
            due = item.due + (" (待定 provisional)" if item.uncertain else "")
            lines.append(
                f"| {mark} | {number} | {state_label(item.state)}"
                f" | {STAGES.get(item.stage, item.stage)} | {due} | {days} |"
            )
        lines.append("")
        lines.append("请于收到本单后及时办理并报告进展。Please act and report progress.")
        lines.append("")
    if report.signing:
        lines += ["## 签收超时 Slow signing", ""]
        lines += ["| 颜色 Colour | 编号 Number | 承办单位 Unit | 签收期限 Sign by | 天数 Days |"]
        lines += ["|---|---|---|---|---|"]
        for item in report.signing:
            mark, number, days = _cells(item)
            lines.append(
                f"| {mark} | {number} | {unit_label(desk, item.unit)} | {item.due} | {days} |"
            )
        lines += ["", "请承办单位即日签收。The unit should sign for these cases today.", ""]
    if report.duties:
        lines += ["## 告知与函询 Notices and inquiries", ""]
        lines += ["| 颜色 Colour | 编号 Number | 事项 Duty | 期限 Due | 天数 Days |"]
        lines += ["|---|---|---|---|---|"]
        for item in report.duties:
            mark, number, days = _cells(item)
            lines.append(f"| {mark} | {number} | {STAGES[item.stage]} | {item.due} | {days} |")
        lines.append("")
    if report.replies:
        lines += ["## 转办待回复 Forwarded, awaiting the authority's reply", ""]
        lines += ["| 颜色 Colour | 编号 Number | 受转单位 Authority | 回复期限 Reply by"
                  " | 天数 Days |"]  # fmt: skip
        lines += ["|---|---|---|---|---|"]
        for item in report.replies:
            mark, number, days = _cells(item)
            lines.append(
                f"| {mark} | {number} | {unit_label(desk, item.unit)} | {item.due} | {days} |"
            )
        lines += ["", "请跟踪督办，收到回复后即登记（forward-reply）。Follow up; record each"
                  " reply when it arrives (forward-reply).", ""]  # fmt: skip
    if not by_unit and not report.signing and not report.duties and not report.replies:
        lines.append("无超期或临近期限的事项。Nothing overdue or near its deadline.")
    return "\n".join(lines) + "\n"


def supervision_csv(report: WarningReport) -> str:
    """The supervision list as CSV."""
    out = io.StringIO()
    fields = ["unit", "colour", "case_id", "number", "state", "stage", "due", "days", "uncertain"]
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    items = [*report.flagged, *report.signing, *report.duties, *report.replies]
    for item in sorted(items, key=lambda f: (f.unit, f.colour != "red", f.due, f.stage)):
        writer.writerow({k: v for k, v in item.as_dict().items() if k in fields})
    return out.getvalue()
