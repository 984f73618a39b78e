"""Statistics downloads: per-table and measure series as CSV and JSON, one file per released month,
and a Frictionless data package (``datapackage.json``) describing each of them with its schema.

Only stored release values go in. The per-month files (``releases/YYYY-MM.json``) hold nothing
else, so a month's file has the same bytes in every later build: anyone can check that a release
was never revised. The series files grow by one month each time a month is released.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .measures import MEASURES_TABLE
from .releases import Month, StoredTable
from .tables import MEASURES, TOTAL, Category, TableSpec

TOTAL_LABEL = {"zh": "合计", "en": "Total"}


_SERIES_FIELDS: list[dict[str, Any]] = [
    {
        "name": "month",
        "type": "string",
        "format": "default",
        "constraints": {"pattern": r"\d{4}-\d{2}"},
        "description": "Reference month (YYYY-MM)",
    },
    {
        "name": "category",
        "type": "string",
        "description": "Category code; _total is the table total",
    },
    {"name": "label_zh", "type": "string", "description": "Category name in Chinese"},
    {"name": "label_en", "type": "string", "description": "Category name in English"},
    {
        "name": "value",
        "type": "integer",
        "constraints": {"minimum": 0},
        "description": "Count; empty (CSV) or null (JSON) when suppressed",
    },
]
_MEASURE_FIELDS: list[dict[str, Any]] = [
    *_SERIES_FIELDS[:4],
    {"name": "unit", "type": "string", "description": "% or days"},
    {
        "name": "value",
        "type": "number",
        "constraints": {"minimum": 0},
        "description": "Rate in percent or median in days; empty or null when not published",
    },
]
# In the order of the keys of a release file's records (alphabetical, as those files have always
# been written): a reader such as Frictionless matches a JSON record's keys to the fields by
# position, and a released month's file must keep its bytes.
_RELEASE_FIELDS: list[dict[str, Any]] = [
    {"name": "category", "type": "string", "description": "Category or measure code"},
    _SERIES_FIELDS[0],
    {"name": "table", "type": "string", "description": "Table name (_measures: rates, medians)"},
    {"name": "value", "type": "number", "description": "The published value; null = suppressed"},
]


def write_downloads(
    folder: Path, specs: Sequence[TableSpec], releases: Mapping[Month, Mapping[str, StoredTable]]
) -> None:
    """Per-table and measure series (CSV and JSON), one immutable file per month, a data package."""
    folder.mkdir(parents=True, exist_ok=True)
    resources: list[dict[str, Any]] = []
    months = sorted(releases)
    for spec in specs:
        records = []
        rows = [*spec.rows, Category(TOTAL, TOTAL_LABEL["zh"], TOTAL_LABEL["en"])]
        for month in months:
            table = releases[month].get(spec.name)
            if table is None:
                continue
            values: dict[str, Any] = {c: v for c, v in table.data["rows"]}
            if "total" in table.data:
                values[TOTAL] = table.data["total"]
            records += [
                {
                    "month": month,
                    "category": c.code,
                    "label_zh": c.zh,
                    "label_en": c.en,
                    "value": values[c.code],
                }
                for c in rows
                if c.code in values
            ]
        resources += _series(
            folder, spec.name, f"{spec.en} ({spec.counts_en})", records, _SERIES_FIELDS
        )
    measures = [
        {
            "month": m,
            "category": x.name,
            "label_zh": x.zh,
            "label_en": x.en,
            "unit": x.unit,
            "value": releases[m][MEASURES_TABLE].data["values"].get(x.name),
        }
        for m in months
        if MEASURES_TABLE in releases[m]
        for x in MEASURES
    ]
    resources += _series(folder, "measures", "Rates and medians", measures, _MEASURE_FIELDS)
    for month in months:
        path = f"releases/{month}.json"
        _write_json(folder / path, _release_records(month, releases[month]))
        resources.append(
            _resource(
                f"release-{month}",
                path,
                "json",
                f"Release of {month}",
                _RELEASE_FIELDS,
                ["table", "category"],
            )
        )
    package = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "lianxin-statistics",
        "title": "Lianxin: monthly statistics of reports and petitions",
        "description": "Aggregates by month only. Counts below the threshold and the cells that "
        "would reveal them are suppressed (empty or null); a released month never changes.",
        "resources": resources,
    }
    _write_json(folder / "datapackage.json", package)


def _release_records(month: Month, tables: Mapping[str, StoredTable]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for name, table in sorted(tables.items()):
        if name == MEASURES_TABLE:
            records += [
                {"month": month, "table": name, "category": k, "value": v}
                for k, v in sorted(table.data["values"].items())
            ]
            continue
        records += [
            {"month": month, "table": name, "category": c, "value": v}
            for c, v in table.data["rows"]
        ]
        if "total" in table.data:
            records.append(
                {"month": month, "table": name, "category": TOTAL, "value": table.data["total"]}
            )
    return records


def _series(
    folder: Path, name: str, title: str, records: list[dict[str, Any]], fields: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    columns = [f["name"] for f in fields]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([["" if r[c] is None else r[c] for c in columns] for r in records])
    (folder / f"{name}.csv").write_text(text.getvalue(), encoding="utf-8")
    # Keys in the schema's order, like the CSV's columns: readers match them to fields by position.
    _write_json(folder / f"{name}.json", [{c: r[c] for c in columns} for r in records], False)
    key = ["month", "category"]
    return [
        _resource(name, f"{name}.csv", "csv", title, fields, key),
        _resource(f"{name}-json", f"{name}.json", "json", title, fields, key),
    ]


def _resource(
    name: str, path: str, fmt: str, title: str, fields: list[dict[str, Any]], key: list[str]
) -> dict[str, Any]:
    return {
        "name": name,
        "type": "table",
        "path": path,
        "format": fmt,
        "encoding": "utf-8",
        "mediatype": "text/csv" if fmt == "csv" else "application/json",
        "title": title,
        "schema": {"fields": fields, "primaryKey": key, "missingValues": [""]},
    }


def _write_json(path: Path, doc: Any, sort_keys: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=sort_keys) + "\n", encoding="utf-8"
    )
