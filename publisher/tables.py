"""The fixed, published set of monthly statistics: tables, their categories, and derived measures.

Every table counts cases for one month and has a fixed list of categories taken from the
versioned lists (``lianxin/domain/data``) plus a few fixed extra rows. Categories never depend on
the data: a category that exists only when it is used would itself tell readers something.

Tables in one *group* count the same cases (for example everything received in the month, once by
channel, once by region), so they publish one shared total and are suppressed together. Tables
without a group publish no total, and each of their cells stands alone.

Reference periods: flows count what happened in the month (received, concluded, answered, a
deadline falling due); stocks count what was open at the end of the month. Classification
(channel, item type, problem type, rank, region, decision, repeat) is as recorded when the month
was released.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from lianxin.domain.outcomes import Outcome
from lianxin.domain.taxonomy import Catalogue, Entry, Taxonomy

UNREGISTERED = "_unregistered"
NOT_STATED = "_not_stated"
TOTAL = "_total"


@dataclass(frozen=True)
class Category:
    """One row of a table."""

    code: str
    zh: str
    en: str

    @property
    def extra(self) -> bool:
        """A fixed row beyond the desk's lists (not stated, not yet registered)."""
        return self.code.startswith("_")


@dataclass(frozen=True)
class Group:
    """Tables that count the same cases and share one published total."""

    name: str
    zh: str
    en: str


@dataclass(frozen=True)
class TableSpec:
    """A published table: its categories, and what one case counted in it means."""

    name: str
    zh: str
    en: str
    counts_zh: str
    counts_en: str
    rows: tuple[Category, ...]
    group: Group | None

    def codes(self) -> tuple[str, ...]:
        """The category codes, in display order."""
        return tuple(r.code for r in self.rows)


@dataclass(frozen=True)
class Measure:
    """A rate or a median derived for a month."""

    name: str
    zh: str
    en: str
    unit: Literal["%", "days"]
    explain_zh: str
    explain_en: str


RECEIVED = Group("received", "本月收到", "Received in the month")
DUE = Group("due", "本月办理期限届满", "Handling deadline fell in the month")
REAL_NAME = Group(
    "real_name", "本月答复期限届满的实名举报", "Verified real-name cases whose answer fell due"
)
ANSWERED = Group("answered", "本月答复", "Answered in the month")
REVIEWS = Group("reviews", "本月二次反馈及复查复核答复", "Second answers and review answers given")

_UNREG = Category(UNREGISTERED, "尚未登记", "Not yet registered")
_NOT_STATED = Category(NOT_STATED, "未注明", "Not stated")

# name, zh, en, unit, explanation zh, explanation en
MEASURES = tuple(
    Measure(*fields)
    for fields in (
        ("repeat_rate", "重复举报率", "Repeat rate", "%", "本月收到的件数中重复件所占比例",
         "Share of repeat reports among items received"),
        ("on_time_rate", "按期办结率", "On-time rate", "%", "本月到期案件中在期限内办结的比例",
         "Share of cases due in the month that were concluded by their deadline"),
        ("real_name_answer_rate", "实名举报按期答复率", "Real-name answers on time", "%",
         "答复期限在本月届满的实名举报中按期答复的比例",
         "Share of verified real-name cases answered within the answer window"),
        ("satisfaction_rate", "满意率", "Satisfaction rate", "%",
         "本月答复并已评价的案件中满意和基本满意的比例",
         "Satisfied or basically satisfied among cases answered in the month and rated"),
        ("median_days", "办结用时中位数", "Median days to conclusion", "days",
         "本月办结案件从收到到办结的天数中位数",
         "Median calendar days from receipt to conclusion of cases concluded in the month"),
    )
)  # fmt: skip

_RECEIVED_COUNTS = ("本月收到的件数", "items received in the month")
_REVIEW_COUNTS = ("本月作出的二次反馈及复查复核答复", "second answers and review answers given")
# name: (zh, en, what one case counted means in zh and en, group)
_TABLES: dict[str, tuple[str, str, str, str, Group | None]] = {
    "channel": ("收件渠道", "Channel", *_RECEIVED_COUNTS, RECEIVED),
    "item_type": ("信访举报件类别", "Item type", *_RECEIVED_COUNTS, RECEIVED),
    "problem_type": ("问题类别", "Problem type", *_RECEIVED_COUNTS, RECEIVED),
    "rank_band": ("被反映人级别", "Rank of the reported person", *_RECEIVED_COUNTS, RECEIVED),
    "region": ("地区", "Region", *_RECEIVED_COUNTS, RECEIVED),
    "decision": ("受理情况", "Acceptance", *_RECEIVED_COUNTS, RECEIVED),
    "repeat": ("重复举报", "Repeat reports", *_RECEIVED_COUNTS, RECEIVED),
    "caseload": ("办结与在办", "Concluded and in progress", "本月办结的件数；月末仍在办理的件数",
                 "cases concluded in the month; cases still in progress at its end", None),
    "on_time": ("按期办结", "Concluded on time", "办理期限在本月届满的案件",
                "cases whose handling deadline fell in the month", DUE),
    "real_name_answers": ("实名举报答复", "Answers to real-name reporters",
                          "答复期限在本月届满的已核实实名举报",
                          "verified real-name cases whose answer fell due in the month", REAL_NAME),
    "satisfaction": ("满意度", "Satisfaction", "本月答复的案件", "cases answered in the month",
                     ANSWERED),
    "review_kind": ("二次反馈与复查复核", "Second answers and reviews", *_REVIEW_COUNTS, REVIEWS),
    "review_outcome": ("复查复核结果", "Outcome of reviews", *_REVIEW_COUNTS, REVIEWS),
    "ledger_new": ("专项台账：本月新增", "Special ledgers: new items", "本月收到并列入该台账的件数",
                   "items received in the month and in the ledger", None),
    "ledger_open": ("专项台账：月末未销号", "Special ledgers: open at month end",
                    "月末仍未销号的台账件数",
                    "ledger items not yet cleared at the end of the month", None),
}  # fmt: skip
# Categories that are not in the desk's lists.
_FIXED: dict[str, tuple[tuple[str, str, str], ...]] = {
    "decision": (("accepted", "已受理", "Accepted"), ("not_accepted", "不予受理", "Not accepted"),
                 ("forwarded", "已转办", "Forwarded to the competent authority"),
                 ("pending", "待处理", "Not yet decided")),
    "repeat": (("first", "首次举报", "First report"), ("repeat", "重复件", "Repeat report")),
    "caseload": (("concluded", "本月办结", "Concluded in the month"),
                 ("in_progress", "月末在办", "In progress at the end of the month")),
    "on_time": (("on_time", "按期办结", "Concluded by the deadline"),
                ("late", "未按期办结", "Not concluded by the deadline")),
    "real_name_answers": (("in_time", "按期答复", "Answered within the window"),
                          ("late", "未按期答复", "Not answered within the window")),
    "satisfaction": (("satisfied", "满意", "Satisfied"),
                     ("basically", "基本满意", "Basically satisfied"),
                     ("not", "不满意", "Not satisfied"), ("unrated", "尚未评价", "Not rated yet")),
    "review_kind": (("second_answer", "二次反馈", "Second answer"), ("review", "复查", "Review"),
                    ("re_review", "复核", "Re-review")),
}  # fmt: skip


def _rows(entries: Iterable[Entry], *extra: Category) -> tuple[Category, ...]:
    return (*(Category(e.code, e.zh, e.en) for e in entries), *extra)


def _bands(taxonomy: Taxonomy) -> tuple[Category, ...]:
    bands: dict[int, list[tuple[str, str]]] = {}
    for rank in taxonomy.ranks:
        bands.setdefault(rank.band, []).append((rank.zh, rank.en))
    return tuple(
        Category(f"band{band}", "、".join(zh for zh, _ in names), "; ".join(en for _, en in names))
        for band, names in sorted(bands.items())
    )


def table_specs(taxonomy: Taxonomy, outcomes: Catalogue[Outcome]) -> tuple[TableSpec, ...]:
    """The fixed set of published tables, in page order."""
    classified = (_NOT_STATED, _UNREG)
    rows: dict[str, tuple[Category, ...]] = {
        "channel": _rows(taxonomy.channels),
        "item_type": _rows(taxonomy.item_types, *classified),
        "problem_type": _rows(taxonomy.categories(), *classified),
        "rank_band": (*_bands(taxonomy), *classified),
        "region": _rows(taxonomy.regions, *classified),
        "review_kind": (*(Category(*f) for f in _FIXED["review_kind"]), _NOT_STATED),
        "review_outcome": _rows((o for o in outcomes if o.stage == "review"), _NOT_STATED),
        "ledger_new": _rows(taxonomy.tags),
        "ledger_open": _rows(taxonomy.tags),
    }
    return tuple(
        TableSpec(name, zh, en, counts_zh, counts_en,
                  rows.get(name) or tuple(Category(*f) for f in _FIXED[name]), group)
        for name, (zh, en, counts_zh, counts_en, group) in _TABLES.items()
    )  # fmt: skip


LINKED_ROWS = {UNREGISTERED: ("item_type", "problem_type", "rank_band", "region")}
"""Rows that count the very same cases in several tables: readers can equate them."""
