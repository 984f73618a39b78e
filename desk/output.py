"""How the desk CLI prints: Rich tables for people, JSON and CSV for programs.

Every listing goes through :func:`emit`, so ``--json`` and ``--csv`` give the same rows and
columns as the table.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

Column = tuple[str, str]  # (key in the row, header)


def console() -> Console:
    """A console on standard output (wide enough for Chinese text when not a terminal).

    Colours only reach a terminal (or ``FORCE_COLOR``); ``NO_COLOR`` turns them off."""
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def emit(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    fmt: str,
    *,
    title: str = "",
    json_doc: Any = None,
    styles: Mapping[str, str] | None = None,
    value_styled: str | None = None,
) -> None:
    """Print ``rows`` as a table (``fmt == "table"``), JSON or CSV.

    JSON prints ``json_doc`` when given (a listing with its summary), else the rows. In a table,
    ``styles`` colours whole columns (``{"red": "red"}``) and the cells of the ``value_styled``
    column are printed in their own value (``"colour"``: red in red); cell text is never read
    as Rich markup."""
    if fmt == "json":
        doc = json_doc if json_doc is not None else list(rows)
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow([key for key, _ in columns])
        for row in rows:
            writer.writerow([_cell(row.get(key)) for key, _ in columns])
        return
    styles = styles or {}
    table = Table(title=title or None, show_lines=False)
    for key, header in columns:
        table.add_column(Text(header, style=styles.get(key, "")), style=styles.get(key))
    for row in rows:
        table.add_row(
            *(
                Text(_cell(row.get(key)), style=_cell(row.get(key)) if key == value_styled else "")
                for key, _ in columns
            )
        )
    console().print(table)
    if not rows:
        console().print("(none)")


def dump_json(doc: Any) -> None:
    """Print one JSON document."""
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")
