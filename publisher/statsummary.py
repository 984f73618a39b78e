"""The statistics page's summary: the latest month's headline figures, each compared with the
month before and the same month a year earlier.

Only stored, released values are used (a figure suppressed in a release stays unknown here too),
so the summary can never show more than the tables do. A figure that is suppressed, or a month
that was not released, is said in words, and no change is computed from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .measures import MEASURES_TABLE
from .releases import Month, StoredTable, previous_month

Releases = Mapping[Month, Mapping[str, StoredTable]]

TOO_FEW = {"zh": "人数过少，不公布", "en": "too few to publish"}


@dataclass(frozen=True)
class _Figure:
    name: str
    zh: str
    en: str
    rate: bool  # a percentage (changes in points) or a count (changes in items and per cent)


FIGURES = (
    _Figure("received", "收到件数", "Items received", rate=False),
    _Figure("on_time_rate", "按期办结率", "On-time rate", rate=True),
    _Figure("satisfaction_rate", "满意率", "Satisfaction rate", rate=True),
)


def _value(releases: Releases, month: Month, figure: _Figure) -> tuple[bool, float | None]:
    """(released, value): value None when the figure is suppressed or not published."""
    tables = releases.get(month)
    if figure.name == "received":
        if tables is None or "channel" not in tables:
            return False, None
        total = tables["channel"].data.get("total")
        return True, None if total is None else float(total)
    if tables is None or MEASURES_TABLE not in tables:
        return False, None
    found = tables[MEASURES_TABLE].data["values"].get(figure.name)
    return True, None if found is None else float(found)


def _number(value: float, rate: bool) -> str:
    return f"{value:.1f}%" if rate else f"{value:,.0f}"


def _signed(value: float, digits: int) -> str:
    text = f"{abs(value):,.{digits}f}"
    return "±0" if text.strip("0.,") == "" else ("+" if value > 0 else "−") + text


def _change(figure: _Figure, now: float | None, then: tuple[bool, float | None], lang: str) -> str:
    released, before = then
    if not released:
        return "无数据" if lang == "zh" else "no figures"
    if before is None:
        return "人数过少，无法比较" if lang == "zh" else "too few to publish; no comparison"
    if now is None:
        return "—"
    diff = now - before
    if figure.rate:
        return f"{_signed(diff, 1)} 个百分点" if lang == "zh" else f"{_signed(diff, 1)} points"
    text = f"{_signed(diff, 0)} 件" if lang == "zh" else _signed(diff, 0)
    if before > 0:
        text += (
            f"（{_signed(100 * diff / before, 1)}%）"
            if lang == "zh"
            else (f" ({_signed(100 * diff / before, 1)}%)")
        )
    return text


def summary(releases: Releases) -> dict[str, Any] | None:
    """The summary of the latest released month, per language; None before the first release."""
    if not releases:
        return None
    latest = max(releases)
    earlier = previous_month(latest)
    year_ago = f"{int(latest[:4]) - 1:04d}{latest[4:]}"
    out: dict[str, Any] = {"month": latest, "previous": earlier, "year_ago": year_ago}
    for lang in ("zh", "en"):
        items = []
        for figure in FIGURES:
            _, now = _value(releases, latest, figure)
            items.append(
                {
                    "name": figure.name,
                    "label": getattr(figure, lang),
                    "value": TOO_FEW[lang] if now is None else _number(now, figure.rate),
                    "suppressed": now is None,
                    "previous": _change(figure, now, _value(releases, earlier, figure), lang),
                    "year_ago": _change(figure, now, _value(releases, year_ago, figure), lang),
                }
            )
        out[lang] = items
    return out
