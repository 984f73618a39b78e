"""The reception leaders page (点名接访): context for its templates, and the ``leaders.ics`` file.

The data file is checked before anything is written (:func:`publisher.leaders.load_leaders`), and
so is every photo it names: a missing photo is a :class:`LeadersFileError` pointing at the line,
like any other mistake in the file, and the build stops with the published site untouched.
Reception days move off weekends and public holidays with the desk's working-day calendar.

The English page uses the file's ``en:`` texts; a name without one is transliterated into pinyin
(:mod:`publisher.romanize`), any other text without one is shown in Chinese, marked
``lang="zh"`` so that screen readers read it as Chinese. Phone numbers and e-mail addresses
become ``tel:`` and ``mailto:`` links.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from lianxin.domain.workdays import default_calendar

from .context import Build
from .errors import LeadersFileError
from .leaders import (
    English,
    Leader,
    MonthlyDay,
    MonthlyNth,
    NonWorkingDays,
    ReceptionSlot,
    Site,
    leaders_ics,
    load_leaders,
    next_receptions,
)
from .romanize import romanize_name

NEXT_COUNT = 3
MONTHS_AHEAD = 3
CALENDAR_FILE = "leaders.ics"
_WEEKDAYS_ZH = "一二三四五六日"
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NTH_ZH = {1: "第一个", 2: "第二个", 3: "第三个", 4: "第四个", -1: "最后一个"}
_NTH_EN = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}


def leaders_page(build: Build) -> None:
    """Page producer: check the leaders file and photos, write the calendar, fill the context."""
    settings = build.settings
    path = Path(settings.leaders_file or settings.portal_dir / "data" / "leaders.yaml")
    leaders = load_leaders(path)
    docs: Path = build.docs
    for n, leader in enumerate(leaders):
        if leader.photo is not None and not (docs / leader.photo).is_file():
            raise LeadersFileError(
                str(path),
                _line_of(path, n),
                f"leaders[{n}].photo",
                f"no file {leader.photo} in the portal's docs folder",
            )
    calendar = default_calendar()
    closed = NonWorkingDays(calendar)
    today: date = settings.today
    (docs / CALENDAR_FILE).write_bytes(leaders_ics(leaders, today, MONTHS_AHEAD, closed=closed))
    people = [_person(leader, today, closed) for leader in leaders]
    unknown = sorted(
        {
            int(r["date"][:4])
            for p in people
            for r in p["next"]
            if not calendar.has_data(int(r["date"][:4]))
        }
    )
    build.context["leaders"] = {
        "people": people,
        "calendar": CALENDAR_FILE,
        "months_ahead": MONTHS_AHEAD,
        "unknown_years": unknown,
    }


def _text(english: str | None, chinese: str) -> dict[str, str]:
    """A text for the English page: the English version, or the Chinese marked as such."""
    return {"text": english, "lang": "en"} if english else {"text": chinese, "lang": "zh"}


def _texts(english: tuple[str, ...] | None, chinese: tuple[str, ...]) -> list[dict[str, str]]:
    return [_text(english[n] if english else None, c) for n, c in enumerate(chinese)]


def _site_en(site: Site) -> dict[str, Any]:
    return {"name": _text(site.en.name, site.name), "address": _text(site.en.address, site.address)}


def _english(leader: Leader) -> dict[str, Any]:
    en: English = leader.en
    return {
        "name": en.name or romanize_name(leader.name),
        "transliterated": en.name is None,
        "post": _text(en.post, leader.post),
        "duties": _texts(en.duties, leader.duties),
        "responsible_for": _texts(en.responsible_for, leader.responsible_for),
        "office": _text(en.office, leader.office),
    }


def _tel(phone: str) -> str:
    """``tel:`` link target: the digits (and a leading +) of the number as published."""
    return "tel:" + ("+" if phone.startswith("+") else "") + re.sub(r"\D", "", phone)


def _person(leader: Leader, today: date, closed: NonWorkingDays) -> dict[str, Any]:
    upcoming = next_receptions(leader, today, NEXT_COUNT, closed=closed)
    return {
        "id": leader.id,
        "en": _english(leader),
        "tel": _tel(leader.phone),
        "name": leader.name,
        "post": leader.post,
        "photo": leader.photo,
        "duties": list(leader.duties),
        "responsible_for": list(leader.responsible_for),
        "office": leader.office,
        "phone": leader.phone,
        "email": leader.email,
        "sites": [{"name": s.name, "address": s.address, "en": _site_en(s)} for s in leader.sites],
        "schedule": [_slot_text(slot) for slot in leader.schedule],
        "next": [
            {
                "date": r.date.isoformat(),
                "weekday_zh": "星期" + _WEEKDAYS_ZH[r.date.weekday()],
                "weekday_en": _WEEKDAYS_EN[r.date.weekday()],
                "hours": f"{r.start:%H:%M}–{r.end:%H:%M}",
                "site": r.site.name,
                "site_en": _text(r.site.en.name, r.site.name),
                "moved_from": r.scheduled.isoformat() if r.scheduled != r.date else None,
            }
            for r in upcoming
        ],
    }


def _slot_text(slot: ReceptionSlot) -> dict[str, Any]:
    """A schedule line in words, in both languages."""
    rule = slot.rule
    if isinstance(rule, MonthlyDay):
        zh, en = f"每月{rule.day}日", f"monthly on the {_ordinal(rule.day)}"
    elif isinstance(rule, MonthlyNth):
        zh = f"每月{_NTH_ZH[rule.nth]}星期{_WEEKDAYS_ZH[rule.weekday]}"
        en = f"the {_NTH_EN[rule.nth]} {_WEEKDAYS_EN[rule.weekday]} of each month"
    else:
        zh, en = f"每周{_WEEKDAYS_ZH[rule.weekday]}", f"every {_WEEKDAYS_EN[rule.weekday]}"
    hours = f"{slot.start:%H:%M}–{slot.end:%H:%M}"
    return {
        "zh": f"{zh} {hours}",
        "en": f"{en}, {hours}",
        "site": slot.site.name,
        "site_en": _text(slot.site.en.name, slot.site.name),
    }


def _line_of(path: Path, index: int) -> int:
    """The line of ``leaders[index].photo`` (the file already parsed, so this cannot fail)."""
    root: Any = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    top = dict((k.value, v) for k, v in root.value)
    item = top["leaders"].value[index]
    node = dict((k.value, v) for k, v in item.value)["photo"]
    return int(node.start_mark.line) + 1


def _ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, … 11th, 12th, 13th, … 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
