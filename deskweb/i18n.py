"""The page's language (Chinese by default, English on request) and every label shown.

The web desk's own words come from ``deskweb/data/ui.yaml``; everything else is named from the
lists (units, problem types, channels, regions, ranks, item types, tags), the roles file (roles
and steps) and the lifecycle (states), so a page never shows a code. A step the desk refused is
worded from ``deskweb/data/refusals.yaml`` by the refusal's stable code
(:meth:`Labels.refusal`), never by parsing the desk's English message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from desk.lifecycle import PHASES, STATES, Why
from desk.refusals import IllegalTransition, Refused
from desk.roles import ROLEBOOK, Action
from lianxin.domain.taxonomy import Entry, Taxonomy

LANGS = ("zh", "en")
# An event several steps write is named by the one that matters on a timeline.
EVENT_ACTION = {"read": "show", "satisfaction": "satisfaction", "office-key-granted": "grant"}
UI_FILE = Path(__file__).parent / "data" / "ui.yaml"
REFUSALS_FILE = Path(__file__).parent / "data" / "refusals.yaml"


def load_words(path: Path = UI_FILE) -> dict[str, dict[str, str]]:
    """The UI words; refused at start if one lacks a language."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, entry in doc.items():
        missing = [lang for lang in LANGS if not isinstance(entry, dict) or lang not in entry]
        if missing:
            raise ValueError(f"{path}: {key} has no {', '.join(missing)} text")
    return {k: {lang: str(v[lang]) for lang in LANGS} for k, v in doc.items()}


WORDS = load_words()


@dataclass(frozen=True)
class RefusalWords:
    """The refusal catalogue: top-level ``codes``, lifecycle ``why`` codes, form ``fields``."""

    codes: dict[str, dict[str, str]]
    why: dict[str, dict[str, str]]
    fields: dict[str, dict[str, str]]


def _two_languages(path: Path, section: str, doc: Any) -> dict[str, dict[str, str]]:
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: {section} is not a mapping")
    out = {}
    for key, entry in doc.items():
        missing = [lang for lang in LANGS if not isinstance(entry, dict) or lang not in entry]
        if missing:
            raise ValueError(f"{path}: {section}.{key} has no {', '.join(missing)} text")
        out[str(key)] = {lang: str(entry[lang]) for lang in LANGS}
    return out


def load_refusals(path: Path = REFUSALS_FILE) -> RefusalWords:
    """The refusal catalogue; refused at start if an entry lacks a language."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return RefusalWords(
        *(_two_languages(path, name, doc.get(name)) for name in ("codes", "why", "fields"))
    )


REFUSALS = load_refusals()


class _Blank(dict[str, Any]):
    """Format values where a placeholder the refusal did not fill reads as nothing (a page
    never fails for want of one; tests/test_deskweb_refusals.py checks each is filled)."""

    def __missing__(self, key: str) -> str:
        return ""


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

    def phase(self, code: str | None) -> str:
        """A loop step's phase name (``screened`` → 已甄别待审批)."""
        if code is None:
            return self.t("phase_none")
        zh, en = PHASES.get(code, (code, code))
        return zh if self.lang == "zh" else en

    def field(self, argument: str | None) -> str:
        """The form field a refusal names by its CLI option (``--reason`` → 理由)."""
        if not argument:
            return ""
        entry = REFUSALS.fields.get(argument)
        return entry[self.lang] if entry else argument

    def precise_step(self, step: str) -> str:
        """A step with its mode (``route --forward`` → 转办, where :meth:`step` says 分流)."""
        if not step:
            return ""
        key = "step_" + step.replace(" --", "_").replace("-", "_")
        return self.t(key) if key in WORDS else self.step(step)

    def _paren(self, phase: str | None) -> str:
        if not phase:
            return ""
        return f"（{self.phase(phase)}）" if self.lang == "zh" else f" ({self.phase(phase)})"

    def _why(self, why: Why) -> str:
        text = REFUSALS.why.get(why.code, {}).get(self.lang)
        if text is None:
            return why.text
        p = why.params
        values = {
            "state": self.state(str(p.get("state"))) + self._paren(p.get("phase")),
            "phase": self.phase(p.get("phase")),
            "phases": self.t("or").join(self.phase(w) for w in p.get("phases", ())),
            "proposal": self.precise_step(str(p.get("proposal", ""))),
        }
        return text.format(**values)

    def refusal(self, exc: Refused) -> str:
        """Why the desk refused a step, in this language, from the refusal's stable code; a
        code not in the catalogue falls back to its class's wording with the desk's message."""
        entry = REFUSALS.codes.get(exc.code) or REFUSALS.codes[type(exc).code]
        p = exc.params
        values: dict[str, Any] = {
            **p,
            "field": self.field(exc.argument),
            "detail": exc.detail,
            "case": p.get("case", ""),
            "action": self.action(ROLEBOOK.action(p["action"])) if "action" in p else "",
            "roles": self.t("or").join(self.role(r) for r in p.get("roles", ())),
            "unit": self.unit(p.get("unit")),
        }
        if isinstance(exc, IllegalTransition):
            why = p.get("why")
            values["step"] = self.precise_step(str(p.get("step", "")))
            values["why"] = self._why(why) if isinstance(why, Why) else exc.detail
            steps = "、" if self.lang == "zh" else ", "
            names = dict.fromkeys(self.precise_step(s) for s in exc.allowed)
            values["allowed"] = steps.join(names) or self.t("no_steps_left")
        return entry[self.lang].format_map(_Blank(values))

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
    ("/inbox", "nav_inbox", "inbox"),
    ("/intake", "nav_intake", "intake"),
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
