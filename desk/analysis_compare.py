"""The monthly analysis beside the previous month and the same month last year, and that
comparison as an ``.xlsx`` workbook (one sheet per table) that staff open in Excel or WPS.

The figures are :func:`desk.analysis_render.rows` of :func:`desk.analysis.monthly_analysis`
for each of the three months, grouped by section: the page of the web desk and the workbook
show the same tables, and ``desk analysis --xlsx`` writes the same workbook.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from .analysis import monthly_analysis
from .analysis_render import SECTIONS, Value, rows
from .context import Desk
from .roles import desk_action
from .values import parse_month

SHEET_NAME_MAX = 31  # Excel's limit
_NOT_IN_SHEET_NAMES = str.maketrans({c: "_" for c in "[]:*?/\\"})


@dataclass(frozen=True)
class Line:
    """One figure in the three months (None: nothing to divide by)."""

    code: str
    zh: str
    en: str
    values: tuple[Value, Value, Value]
    rate: bool = False

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass
class Table:
    """One section of the analysis."""

    section: str
    zh: str
    en: str
    lines: list[Line] = field(default_factory=list)

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Comparison:
    """The month, the month before and the same month a year before, table by table."""

    months: tuple[str, str, str]
    made: str
    policy: str
    tables: list[Table]


def months_beside(month: str) -> tuple[str, str, str]:
    """``month``, the month before it and the same month last year (YYYY-MM each)."""
    first, _last = parse_month(month)
    before = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    return month, f"{before:%Y-%m}", f"{first.year - 1:04d}-{first.month:02d}"


@desk_action("analysis")
def compare_months(desk: Desk, month: str) -> Comparison:
    """The analysis of ``month`` with the previous month and the same month last year; a
    figure missing in one month (no case of that kind) is 0 there."""
    months = months_beside(month)
    values: dict[tuple[str, str], list[Value]] = {}
    labels: dict[tuple[str, str], tuple[str, str, bool]] = {}
    for index, each in enumerate(months):
        for row in rows(desk, monthly_analysis(desk, each)):
            key = (row.section, row.code)
            if key not in values:
                values[key] = [None if row.rate else 0] * len(months)
                labels[key] = (row.zh, row.en, row.rate)
            values[key][index] = row.value
    tables: dict[str, Table] = {}
    for section in SECTIONS:  # the report's order; within a section, first seen first
        tables[section] = Table(section, *SECTIONS[section])
    for (section, code), figures in values.items():
        zh, en, rate = labels[(section, code)]
        line = Line(code, zh, en, (figures[0], figures[1], figures[2]), rate)
        tables[section].lines.append(line)
    return Comparison(
        months,
        desk.today.isoformat(),
        desk.policy_name,
        [t for t in tables.values() if t.lines],
    )


def sheet_names(tables: list[Table], lang: str) -> list[str]:
    """One valid, distinct sheet name per table (Excel: 31 characters, no ``[]:*?/\\``)."""
    names: list[str] = []
    for table in tables:
        base = table.title(lang).translate(_NOT_IN_SHEET_NAMES)[:SHEET_NAME_MAX]
        name, n = base, 2
        while name.lower() in (x.lower() for x in names):
            suffix = f" {n}"
            name, n = base[: SHEET_NAME_MAX - len(suffix)] + suffix, n + 1
        names.append(name)
    return names


def to_xlsx(comparison: Comparison, *, lang: str = "zh") -> bytes:
    """The comparison as an ``.xlsx`` workbook: one sheet per table, the figure's name, then
    the month, the month before and the same month last year (rates as percentages)."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    figure = "项目" if lang == "zh" else "Figure"
    for table, name in zip(comparison.tables, sheet_names(comparison.tables, lang), strict=True):
        sheet = book.create_sheet(name)
        sheet.append([figure, *comparison.months])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center")
        for line in table.lines:
            sheet.append([line.label(lang), *line.values])
            if line.rate:
                for cell in sheet[sheet.max_row][1:]:
                    cell.number_format = "0.0%"
        sheet.column_dimensions["A"].width = max(
            12, min(60, max(len(line.label(lang)) for line in table.lines) * 2)
        )
        for column in "BCD":
            sheet.column_dimensions[column].width = 12
        sheet.freeze_panes = "B2"
    book.properties.title = ("月分析 " if lang == "zh" else "Monthly analysis ") + (
        comparison.months[0]
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
