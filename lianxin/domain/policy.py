"""Deadline policies: every time limit the desk enforces, as validated data.

A policy is a YAML file (presets in ``lianxin/domain/data/policies/``) listing rules such as
"answer a
verified real-name reporter within 15 working days of conclusion". Every number is a setting
with bounds, so a typo like ``days: 600`` or ``max_extensions: -1`` is refused with the file,
line and field instead of silently producing absurd deadlines.

An office that follows a national preset with local changes (seed 003 answers real-name
reporters within 5 working days, not 15) writes a short file with ``extends: cn-jijian-2020``
and only the rules it changes; a rule with the same ``code`` replaces the preset's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from .errors import DomainError, PolicyNotFoundError
from .yamlnodes import Value, display_path, read_document

PRESET_DIR = Path(__file__).resolve().parent / "data" / "policies"
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9-]*")

# Bounds on settings: wide enough for any real rule, narrow enough to catch typos.
MAX_DAYS = 365
MAX_MONTHS = 24
MAX_WARNING_DAYS = 60
MAX_EXTENSIONS = 5

EVENTS = frozenset(
    {
        "received",  # the office received the item (or a referral of it)
        "accepted",  # registered and accepted (受理)
        "acknowledged",  # receipt acknowledged to the reporter
        "assigned",  # assigned to a handling unit (交办)
        "inquiry_delivered",  # a 谈话函询 letter reached the person asked
        "report_returned",  # the office returned a unit's completion report for rework
        "concluded",  # handling concluded (办结)
        "answered",  # the written answer reached the reporter
        "review_requested",  # the reporter asked for a review (复查)
        "review_answered",  # the review answer reached the reporter
        "rereview_requested",  # the reporter asked for a re-review (复核)
    }
)
"""Case events a rule can count from; they mirror the desk's case lifecycle."""


class SpanUnit(StrEnum):
    """How a span is counted."""

    WORKING = "working"  # working days on the Chinese State Council calendar
    CALENDAR = "calendar"  # calendar days
    MONTHS = "months"  # calendar months (EU Directive 2019/1937)


@dataclass(frozen=True)
class Span:
    """A length of time: ``count`` days of a kind, or ``count`` months."""

    count: int
    unit: SpanUnit

    def __str__(self) -> str:
        if self.unit is SpanUnit.MONTHS:
            return f"{self.count} months"
        return f"{self.count} {self.unit.value} days"


@dataclass(frozen=True)
class Counting:
    """Counting conventions, which the regulations leave open (domain-rules-cn.md §5.1)."""

    shift_rest_day_start: bool
    """A working-day period starting on a rest day starts on the next working day instead."""
    roll_rest_day_end: bool
    """A calendar-day or month period ending on a rest day ends on the next working day
    (民法典 Art. 203)."""


@dataclass(frozen=True)
class Rule:
    """One time limit: ``span`` after the ``start_event``, plus optional extensions."""

    code: str
    zh: str
    en: str
    start_event: str  # one of EVENTS
    span: Span
    warning: Span  # yellow this long before the deadline (the policy's default if unset)
    max_extensions: int
    extension: Span | None  # length of one extension; None when max_extensions is 0
    real_name_only: bool  # applies only to verified real-name reports
    source: str  # article the number comes from
    counting: Counting  # copied from the policy so deadline_for needs only the rule
    note: str = ""


@dataclass(frozen=True)
class Policy:
    """A validated set of deadline rules."""

    name: str
    version: str
    zh: str
    en: str
    source: str  # the regulation the numbers come from
    file: str  # the YAML file they were read from
    extends: str | None  # the preset a local file builds on
    counting: Counting
    warning: Span  # default warning window for rules that set none
    rules: tuple[Rule, ...]

    def rule(self, code: str) -> Rule:
        """The rule with this code; raises :class:`~lianxin.domain.errors.DomainError` if none."""
        for rule in self.rules:
            if rule.code == code:
                return rule
        raise DomainError(f"policy {self.name!r} has no rule {code!r}")

    def rules_from(self, event: str) -> tuple[Rule, ...]:
        """Rules whose clock starts at ``event`` (one of :data:`EVENTS`)."""
        return tuple(r for r in self.rules if r.start_event == event)


def _span_of(
    owner: Value,
    fields: dict[str, Value],
    *,
    max_days: int,
    min_count: int = 1,
    months: bool = True,
) -> Span:
    """Read ``days`` + ``unit`` (or ``months``) out of ``fields``, which belong to ``owner``."""
    if "months" in fields:
        if "days" in fields:
            fields["days"].fail("give either 'days' or 'months', not both")
        if "unit" in fields:
            fields["unit"].fail("months are calendar months; drop 'unit'")
        return Span(fields["months"].integer(min_count, MAX_MONTHS), SpanUnit.MONTHS)
    for name in ("days", "unit"):
        if name not in fields:
            owner.fail(f"missing field '{name}'" + (" (or 'months')" if months else ""))
    days = fields["days"].integer(min_count, max_days)
    return Span(days, SpanUnit(fields["unit"].choice({"working", "calendar"})))


def _span(v: Value) -> Span:
    return _span_of(v, v.mapping((), ("days", "months", "unit")), max_days=MAX_DAYS)


def _warning(v: Value) -> Span:
    fields = v.mapping(("days", "unit"))
    return _span_of(v, fields, max_days=MAX_WARNING_DAYS, min_count=0, months=False)


def _counting(v: Value) -> Counting:
    f = v.mapping(("shift_rest_day_start", "roll_rest_day_end"))
    return Counting(f["shift_rest_day_start"].boolean(), f["roll_rest_day_end"].boolean())


_RULE_REQUIRED = ("code", "zh", "en", "from", "source")
_RULE_OPTIONAL = (
    *("days", "months", "unit", "max_extensions", "extension", "warning"),
    *("real_name_only", "note"),
)
_PLACEHOLDER_COUNTING = Counting(shift_rest_day_start=False, roll_rest_day_end=False)


@dataclass(frozen=True)
class _Draft:
    rule: Rule
    code: Value  # to point a duplicate at its line
    own_warning: bool  # False: takes the policy's default warning when finalised


def _rule(v: Value) -> _Draft:
    f = v.mapping(_RULE_REQUIRED, _RULE_OPTIONAL)
    span = _span_of(v, f, max_days=MAX_DAYS)
    max_ext = f["max_extensions"].integer(0, MAX_EXTENSIONS) if "max_extensions" in f else 0
    extension = None
    if "extension" in f:
        if max_ext == 0:
            f["extension"].fail("an extension needs 'max_extensions' of at least 1")
        extension = _span(f["extension"])
        if (extension.unit is SpanUnit.WORKING) != (span.unit is SpanUnit.WORKING):
            f["extension"].fail(f"counted in {extension.unit.value}, the rule in {span.unit.value}")
    elif max_ext > 0:
        f["max_extensions"].fail("'extension' is missing: how long is one extension?")
    rule = Rule(
        code=f["code"].code(),
        zh=f["zh"].string(),
        en=f["en"].string(),
        start_event=f["from"].choice(EVENTS),
        span=span,
        warning=_warning(f["warning"]) if "warning" in f else Span(0, SpanUnit.WORKING),
        max_extensions=max_ext,
        extension=extension,
        real_name_only=f["real_name_only"].boolean() if "real_name_only" in f else False,
        source=f["source"].string(),
        counting=_PLACEHOLDER_COUNTING,
        note=f["note"].string() if "note" in f else "",
    )
    return _Draft(rule, f["code"], "warning" in f)


@dataclass(frozen=True)
class _Parsed:
    """A policy file read but not finalised: rules still lack the policy-wide defaults."""

    name: str
    version: str
    zh: str
    en: str
    source: str
    file: str
    extends: str | None
    counting: Counting
    warning: Span
    drafts: tuple[_Draft, ...]


_TOP = ("version", "name", "zh", "en", "source", "counting", "warning", "rules")


def _merge_rules(base: tuple[_Draft, ...], own: list[_Draft]) -> tuple[_Draft, ...]:
    """The base's rules with same-code rules replaced in place, then new rules appended."""
    seen: set[str] = set()
    for draft in own:
        if draft.rule.code in seen:
            draft.code.fail(f"duplicate rule code {draft.rule.code!r}")
        seen.add(draft.rule.code)
    by_code = {d.rule.code: d for d in own}
    merged = [by_code.pop(d.rule.code, d) for d in base]
    return (*merged, *by_code.values())


def _parse(path: Path, *, preset: bool) -> _Parsed:
    root = read_document(path)
    probe = root.mapping((), (*_TOP, "extends"))
    base: _Parsed | None = None
    if "extends" in probe:
        if preset:
            probe["extends"].fail("a preset cannot extend another policy")
        name = probe["extends"].string()
        if name not in presets():
            probe["extends"].fail(f"unknown preset {name!r} (presets: {', '.join(presets())})")
        base = _parse(PRESET_DIR / f"{name}.yaml", preset=True)
        top = root.mapping(("version", "name", "extends"), _TOP)
    else:
        top = root.mapping(_TOP)
    name = top["name"].string(_NAME_RE, "a policy name (lower-case ascii letters, digits, '-')")
    if preset and name != path.stem:
        top["name"].fail(f"a preset's name must match its file name {path.stem!r}")
    own = []
    if "rules" in top:
        own = [_rule(v) for v in top["rules"].sequence(non_empty=base is None)]

    def text(key: str) -> str:
        return top[key].string() if key in top or base is None else str(getattr(base, key))

    return _Parsed(
        name=name,
        version=top["version"].version(),
        zh=text("zh"),
        en=text("en"),
        source=text("source"),
        file=display_path(path),
        extends=None if base is None else base.name,
        counting=_counting(top["counting"]) if "counting" in top or base is None else base.counting,
        warning=_warning(top["warning"]) if "warning" in top or base is None else base.warning,
        drafts=_merge_rules(() if base is None else base.drafts, own),
    )


def presets() -> tuple[str, ...]:
    """Names of the bundled policies, e.g. ``cn-jijian-2020``."""
    return tuple(sorted(p.stem for p in PRESET_DIR.glob("*.yaml")))


def load_policy(name_or_path: str | Path) -> Policy:
    """Load a preset by name (see :func:`presets`) or a policy file by path, fully validated.

    A string counts as a path when it ends in ``.yaml``/``.yml`` or contains a path separator.
    Raises :class:`~lianxin.domain.errors.PolicyNotFoundError` for an unknown preset name and
    :class:`~lianxin.domain.errors.DataFileError` (file, line, field) for any problem in the file.
    """
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith((".yaml", ".yml")) or "/" in text:
        parsed = _parse(Path(name_or_path), preset=False)
    elif text in presets():
        parsed = _parse(PRESET_DIR / f"{text}.yaml", preset=True)
    else:
        raise PolicyNotFoundError(f"no policy preset {text!r} (presets: {', '.join(presets())})")
    rules = tuple(
        replace(
            d.rule,
            warning=d.rule.warning if d.own_warning else parsed.warning,
            counting=parsed.counting,
        )
        for d in parsed.drafts
    )
    return Policy(
        name=parsed.name,
        version=parsed.version,
        zh=parsed.zh,
        en=parsed.en,
        source=parsed.source,
        file=parsed.file,
        extends=parsed.extends,
        counting=parsed.counting,
        warning=parsed.warning,
        rules=rules,
    )
