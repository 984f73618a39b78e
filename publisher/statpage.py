"""The statistics page: context for its templates, CSV/JSON downloads with a data package, charts.

Everything here reads the stored releases only (:mod:`publisher.statistics` makes them), so what
the page, the charts and the downloads show is exactly what was released. Per-month files under
``data/releases/`` hold nothing but stored values, so a month's file keeps the same bytes in every
later build; the per-table series files grow by one month each time a month closes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lianxin.domain.datafiles import load_taxonomy
from lianxin.domain.outcomes import load_outcomes

from .charts import bar_chart, monthly_chart
from .context import Build
from .downloads import write_downloads
from .errors import PrivacyParameterError
from .measures import MEASURES_TABLE
from .releases import Month, StoredTable
from .statistics import ensure_releases
from .statsummary import summary
from .suppression import SuppressionRules
from .tables import MEASURES, TableSpec, table_specs

SHOWN_MONTHS = 12
SUPPRESSED = "×"
NOT_RELEASED = "—"
NOTE = {"zh": "× = 数值已隐去以保护当事人", "en": "× = suppressed to protect the people concerned"}
ALL_HIDDEN = {
    "zh": "这张图的数字都因人数过少而不公布（为保护当事人），所以不画图。",
    "en": "Every figure of this chart is too small to publish (to protect the people concerned), "
    "so there is no chart.",
}


def statistics_page(build: Build) -> None:
    """Page producer: release closed months, write downloads and charts, fill the context."""
    settings = build.settings
    SuppressionRules(threshold=settings.threshold)  # refuse a bad threshold before any work
    epsilon = settings.dp_epsilon
    if epsilon is not None and (not math.isfinite(epsilon) or epsilon <= 0):
        raise PrivacyParameterError("--dp-epsilon must be finite and greater than 0")
    taxonomy, outcomes = load_taxonomy(), load_outcomes()
    releases = ensure_releases(
        build.db,
        settings.today,
        taxonomy,
        outcomes,
        threshold=settings.threshold,
        dp_epsilon=epsilon,
    )
    specs = table_specs(taxonomy, outcomes)
    months = sorted(releases)
    shown = months[-SHOWN_MONTHS:]
    docs: Path = build.docs
    write_downloads(docs / "data", specs, releases)
    tables = [_table_context(spec, releases, shown, docs) for spec in specs]
    build.context["statistics"] = {
        "months": months,
        "shown": shown,
        "columns": shown[::-1],  # tables put the newest month first, in view without scrolling
        "period": _period(shown),
        "summary": summary(releases),
        "latest": months[-1] if months else None,
        "threshold": settings.threshold,
        "thresholds": sorted(
            {int(t.params["threshold"]) for m in shown for t in releases[m].values()}
        ),
        "dp": _dp_context(releases, epsilon),
        "overview": _overview(releases, shown, docs),
        "tables": tables,
        "measures": _measures_context(releases, shown, docs),
        "releases": [{"month": m, "path": f"data/releases/{m}.json"} for m in months],
    }


def _cell(value: object) -> str:
    return SUPPRESSED if value is None else str(value)


def _rows(table: StoredTable | None) -> dict[str, int | None]:
    return {} if table is None else {c: v for c, v in table.data["rows"]}


def _table_context(
    spec: TableSpec,
    releases: Mapping[Month, Mapping[str, StoredTable]],
    shown: Sequence[Month],
    docs: Path,
) -> dict[str, Any]:
    stored = [releases[m].get(spec.name) for m in shown]
    columns = [_rows(t) for t in stored]
    rows = []
    for cat in spec.rows:
        cells = [_cell(col[cat.code]) if cat.code in col else NOT_RELEASED for col in columns]
        if cat.extra and all(c in ("0", NOT_RELEASED) for c in cells):
            continue  # an all-zero "not stated" row only adds noise to the page (CSV keeps it)
        rows.append({"code": cat.code, "zh": cat.zh, "en": cat.en, "cells": cells[::-1]})
    totals = None
    if spec.group is not None:
        totals = [_cell(t.data.get("total")) if t else NOT_RELEASED for t in stored][::-1]
    charts = {}
    if shown and stored[-1] is not None:
        latest = _rows(stored[-1])
        for lang in ("zh", "en"):
            data = [
                (getattr(c, lang), latest.get(c.code))
                for c in spec.rows
                if not (c.extra and latest.get(c.code) == 0)
            ]
            title = getattr(spec, lang)
            if all(v is None for _, v in data):
                charts[lang] = _no_chart(title, shown[-1], lang)
                continue
            svg = bar_chart(
                data,
                title=title,
                period=shown[-1],
                desc=getattr(spec, f"counts_{lang}"),
                suppressed_note=NOTE[lang],
                chart_id=f"{spec.name.replace('_', '-')}-{lang}",
            )
            charts[lang] = _write_chart(docs, f"{spec.name}-{lang}", svg, title, shown[-1])
    return {
        "name": spec.name,
        "zh": spec.zh,
        "en": spec.en,
        "counts_zh": spec.counts_zh,
        "counts_en": spec.counts_en,
        "group": None if spec.group is None else {"zh": spec.group.zh, "en": spec.group.en},
        "rows": rows,
        "totals": totals,
        "charts": charts,
        "csv": f"data/{spec.name}.csv",
        "json": f"data/{spec.name}.json",
    }


def _period(months: Sequence[Month]) -> str:
    """The months a chart covers, in words for a caption: "2025-12 – 2026-11"."""
    if not months:
        return ""
    return months[0] if len(months) == 1 else f"{months[0]} – {months[-1]}"


def _write_chart(docs: Path, name: str, svg: str, title: str, period: str) -> dict[str, Any]:
    path = docs / "charts" / f"{name}.svg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg, encoding="utf-8")
    return {"path": f"charts/{name}.svg", "title": title, "period": period, "empty": None}


def _no_chart(title: str, period: str, lang: str) -> dict[str, Any]:
    """Every value is suppressed: a sentence instead of a chart of "×" marks."""
    return {"path": None, "title": title, "period": period, "empty": ALL_HIDDEN[lang]}


def _overview(
    releases: Mapping[Month, Mapping[str, StoredTable]], shown: Sequence[Month], docs: Path
) -> dict[str, Any]:
    """Items received per month: the shared total of the "received" tables."""
    cells = [
        releases[m]["channel"].data.get("total") if "channel" in releases[m] else None
        for m in shown
    ]
    charts = {}
    if shown:
        for lang in ("zh", "en"):
            title = {"zh": "每月收到件数", "en": "Items received per month"}[lang]
            if all(c is None for c in cells):
                charts[lang] = _no_chart(title, _period(shown), lang)
                continue
            svg = monthly_chart(
                list(zip(shown, cells, strict=True)),
                title=title,
                period=_period(shown),
                desc=title,
                suppressed_note=NOTE[lang],
                chart_id=f"received-{lang}",
            )
            charts[lang] = _write_chart(docs, f"received-{lang}", svg, title, _period(shown))
    return {"cells": [_cell(c) for c in cells][::-1], "charts": charts}


def _measures_context(
    releases: Mapping[Month, Mapping[str, StoredTable]], shown: Sequence[Month], docs: Path
) -> list[dict[str, Any]]:
    out = []
    for measure in MEASURES:
        values = [
            releases[m][MEASURES_TABLE].data["values"].get(measure.name)
            if MEASURES_TABLE in releases[m]
            else None
            for m in shown
        ]
        charts = {}
        for lang in ("zh", "en") if shown else ():
            unit = "%" if measure.unit == "%" else ("天" if lang == "zh" else " days")
            title = f"{getattr(measure, lang)} ({unit.strip()})"
            if all(v is None for v in values):
                charts[lang] = _no_chart(title, _period(shown), lang)
            else:
                data = [
                    (m, None if v is None else round(v)) for m, v in zip(shown, values, strict=True)
                ]
                note = NOTE[lang] if lang == "en" else "× = 不公布（人数过少或其组成部分已隐去）"
                svg = monthly_chart(
                    data,
                    title=title,
                    period=_period(shown),
                    desc=getattr(measure, f"explain_{lang}"),
                    kind="line",
                    suppressed_note=note,
                    chart_id=f"{measure.name.replace('_', '-')}-{lang}",
                )
                name = f"{measure.name}-{lang}"
                charts[lang] = _write_chart(docs, name, svg, title, _period(shown))
        out.append(
            {
                "name": measure.name,
                "zh": measure.zh,
                "en": measure.en,
                "unit": measure.unit,
                "explain_zh": measure.explain_zh,
                "explain_en": measure.explain_en,
                "cells": [_cell(v) for v in values][::-1],
                "charts": charts,
            }
        )
    return out


def _dp_context(
    releases: Mapping[Month, Mapping[str, StoredTable]], epsilon: float | None
) -> dict[str, Any]:
    """The ε spent per calendar year of reference months (basic composition: a sum)."""
    years: dict[str, float] = {}
    for month, tables in releases.items():
        for table in tables.values():
            loss = table.params.get("dp")
            if loss:
                years[month[:4]] = years.get(month[:4], 0.0) + float(loss["epsilon"])
    return {
        "setting": epsilon,
        "used": bool(years),
        "years": [{"year": y, "epsilon": f"{e:.3g}"} for y, e in sorted(years.items())],
    }
