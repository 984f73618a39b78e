"""The page's language (Chinese by default, English on request) and every label shown.

The web desk's own words come from ``deskweb/data/ui.yaml``; everything else is named from the
lists (units, problem types, channels, regions, ranks, item types, tags), the roles file (roles
and steps) and the lifecycle (states), so a page never shows a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from desk.lifecycle import STATES
from desk.roles import ROLEBOOK, Action
from lianxin.domain.taxonomy import Entry, Taxonomy

LANGS = ("zh", "en")
# An event several steps write is named by the one that matters on a timeline.
EVENT_ACTION = {"read": "show", "satisfaction": "satisfaction", "office-key-granted": "grant"}
UI_FILE = Path(__file__).parent / "data" / "ui.yaml"


def load_words(path: Path = UI_FILE) -> dict[str, dict[str, str]]:
    """The UI words; refused at start if one lacks a language."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, entry in doc.items():
        missing = [lang for lang in LANGS if not isinstance(entry, dict) or lang not in entry]
        if missing:
            raise ValueError(f"{path}: {key} has no {', '.join(missing)} text")
    return {k: {lang: str(v[lang]) for lang in LANGS} for k, v in doc.items()}


WORDS = load_words()


def step_action(step: str) -> Action | None:
    """The roles file's action behind a lifecycle step (``route --assign`` → route; a step
    named after the event it writes, like ``second-answer``, → the action writing it)."""
    name = step.split()[0]
    if name in ROLEBOOK.actions:
        return ROLEBOOK.action(name)
    writers = ROLEBOOK.actions_writing(name)
    return writers[0] if writers else None


@dataclass(frozen=True)
class Labels:
    """Words and names in one language."""

    lang: str
    taxonomy: Taxonomy

    def t(self, key: str, **values: Any) -> str:
        """A UI text, with ``{name}`` placeholders filled."""
        text = WORDS[key][self.lang]
        return text.format(**values) if values else text

    def entry(self, entry: Entry | None, fallback: str = "") -> str:
        """A list entry's name."""
        if entry is None:
            return fallback
        return entry.zh if self.lang == "zh" else entry.en

    def unit(self, code: str | None) -> str:
        """A unit's name; a forwarded-to authority not in the list as it was typed."""
        if not code or code == "-":
            return self.t("unassigned")
        return self.entry(self.taxonomy.units.get(code), code)

    def problem(self, code: str | None) -> str:
        """A problem type's name (a subtype with its category)."""
        found = self.taxonomy.problem_types.get(code) if code else None
        if found is None:
            return ""
        parent = self.taxonomy.problem_types.get(found.parent) if found.parent else None
        return f"{self.entry(parent)} · {self.entry(found)}" if parent else self.entry(found)

    def channel(self, code: str | None) -> str:
        """A channel's name."""
        return self.entry(self.taxonomy.channels.get(code) if code else None)

    def region(self, code: str | None) -> str:
        """A region's name."""
        return self.entry(self.taxonomy.regions.get(code) if code else None)

    def rank(self, code: str | None) -> str:
        """A rank's name."""
        return self.entry(self.taxonomy.ranks.get(code) if code else None)

    def item_type(self, code: str | None) -> str:
        """An item type's name."""
        return self.entry(self.taxonomy.item_types.get(code) if code else None)

    def tag(self, code: str) -> str:
        """A special-ledger tag's name."""
        return self.entry(self.taxonomy.tags.get(code), code)

    def state(self, code: str) -> str:
        """A lifecycle state's name."""
        zh, en = STATES.get(code, (code, code))
        return zh if self.lang == "zh" else en

    def role(self, code: str) -> str:
        """A role's name."""
        role = ROLEBOOK.roles.get(code)
        if role is None:
            return code
        return role.zh if self.lang == "zh" else role.en

    def action(self, action: Action | None) -> str:
        """A step's name from the roles file."""
        if action is None:
            return ""
        return action.zh if self.lang == "zh" else action.en[:1].upper() + action.en[1:]

    def step(self, step: str) -> str:
        """A lifecycle step's name."""
        return self.action(step_action(step)) or step

    def read_what(self, what: str) -> str:
        """What a read event read (the report, a case page, saved attachments)."""
        key = f"read_{what}"
        return self.t(key) if key in WORDS else what

    def event(self, kind: str) -> str:
        """What an event records, named by the step that writes it."""
        if kind in EVENT_ACTION:
            return self.action(ROLEBOOK.action(EVENT_ACTION[kind]))
        writers = ROLEBOOK.actions_writing(kind)
        return self.action(writers[0]) if writers else kind


# The pages in the header, each shown to officers holding a role for its desk action (the
# desk itself refuses the others: the link is only a convenience).
NAV: tuple[tuple[str, str, str | None], ...] = (
    ("/work", "my_work", None),
    ("/search", "nav_search", "list"),
    ("/analysis", "nav_analysis", "analysis"),
    ("/ledgers", "nav_ledgers", "ledger"),
    ("/supervision", "nav_supervision", "warnings"),
    ("/audit/verify", "nav_verify", "verify"),
    ("/audit/reads", "nav_reads", "reads"),
    ("/audit/events", "nav_events", "events"),
    ("/officers", "nav_officers", "officers"),
    ("/account", "nav_account", "session"),
)


def nav_for(roles: tuple[str, ...]) -> list[tuple[str, str]]:
    """The header's links (path, word key) for an officer with ``roles``."""
    out = []
    for path, key, action in NAV:
        if action is None or any(r in roles for r in ROLEBOOK.action(action).roles):
            out.append((path, key))
    return out
