"""Strict YAML reading that remembers where every value came from.

PyYAML's ``safe_load`` returns plain dicts and lists and forgets line numbers; it also keeps
the last of two duplicate keys without a word. Here the document is *composed* into a node
tree instead, and each value is read through a :class:`Value` that knows its file, line and
field path, so every refusal can say ``file:line: field: problem``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import NoReturn

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import DataFileError

_REPOSITORY = Path(__file__).resolve().parents[2]

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_DATE = "tag:yaml.org,2002:timestamp"
_DESCRIPTIONS = {
    _STR: "a string",
    _INT: "an integer",
    _BOOL: "true/false",
    _DATE: "a date",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:null": "nothing (null)",
    "tag:yaml.org,2002:seq": "a list",
    "tag:yaml.org,2002:map": "a mapping",
}

_QUOTABLE = frozenset({_INT, _BOOL, _DATE, "tag:yaml.org,2002:float"})

CODE_RE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
VERSION_RE = re.compile(r"\d{4}\.\d+")


def display_path(path: Path) -> str:
    """How a file is named in messages: bundled files relative to the repository
    (``lianxin/domain/data/ranks.yaml``), anything else exactly as the caller gave it."""
    try:
        return str(path.resolve().relative_to(_REPOSITORY))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Value:
    """One node of a composed YAML document, with its file and field path."""

    file: str
    field: str
    node: Node

    @property
    def line(self) -> int:
        """1-based line where the value starts."""
        return int(self.node.start_mark.line) + 1

    def fail(self, problem: str) -> NoReturn:
        """Refuse this value with a ``file:line: field: problem`` message."""
        raise DataFileError(self.file, self.line, self.field, problem)

    def _describe(self) -> str:
        return _DESCRIPTIONS.get(self.node.tag, f"a value tagged {self.node.tag}")

    def _child(self, name: str, node: Node) -> Value:
        return Value(self.file, f"{self.field}.{name}" if self.field else name, node)

    def pairs(self) -> list[tuple[Value, Value]]:
        """Key/value pairs of a mapping, refusing duplicate keys (PyYAML keeps the last)."""
        if not isinstance(self.node, MappingNode):
            self.fail(f"expected a mapping, got {self._describe()}")
        seen: set[str] = set()
        out: list[tuple[Value, Value]] = []
        for key_node, value_node in self.node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag not in (_STR, _INT):
                Value(self.file, self.field, key_node).fail("keys must be plain names")
            key = Value(self.file, self._child(key_node.value, key_node).field, key_node)
            if key_node.value in seen:
                key.fail("duplicate key")
            seen.add(key_node.value)
            out.append((key, self._child(key_node.value, value_node)))
        return out

    def mapping(
        self, required: Collection[str], optional: Collection[str] = ()
    ) -> dict[str, Value]:
        """A mapping with string keys: unknown keys and missing required keys are refused."""
        out: dict[str, Value] = {}
        for key, value in self.pairs():
            name = str(key.node.value)
            if key.node.tag != _STR or (name not in required and name not in optional):
                allowed = ", ".join(sorted([*required, *optional]))
                key.fail(f"unknown field (allowed: {allowed})")
            out[name] = value
        for name in required:
            if name not in out:
                self.fail(f"missing field '{name}'")
        return out

    def sequence(self, *, non_empty: bool = False) -> list[Value]:
        """Items of a list, each with an ``[i]`` field path."""
        if not isinstance(self.node, SequenceNode):
            self.fail(f"expected a list, got {self._describe()}")
        if non_empty and not self.node.value:
            self.fail("must not be empty")
        return [Value(self.file, f"{self.field}[{i}]", n) for i, n in enumerate(self.node.value)]

    def _scalar(self, tag: str, hint: str = "") -> object:
        if not isinstance(self.node, ScalarNode) or self.node.tag != tag:
            self.fail(f"expected {_DESCRIPTIONS[tag]}, got {self._describe()}{hint}")
        return SafeConstructor().construct_object(self.node)

    def string(self, pattern: re.Pattern[str] | None = None, what: str = "") -> str:
        """A non-blank string, optionally matching ``pattern`` (described as ``what``)."""
        # A bare 2026.1, yes or 2027-01-01 is read as a number, boolean or date: say how to fix it.
        hint = " (quote it)" if self.node.tag in _QUOTABLE else ""
        text = str(self._scalar(_STR, hint))
        if not text.strip():
            self.fail("must not be blank")
        if pattern is not None and not pattern.fullmatch(text):
            self.fail(f"{text!r} is not {what}")
        return text

    def choice(self, options: Collection[str]) -> str:
        """A string that must be one of ``options``."""
        text = self.string()
        if text not in options:
            self.fail(f"{text!r} is not one of: {', '.join(sorted(options))}")
        return text

    def integer(self, minimum: int, maximum: int) -> int:
        """An integer within ``minimum..maximum`` (the bounds refuse absurd settings)."""
        number = self._scalar(_INT)
        assert isinstance(number, int)
        if not minimum <= number <= maximum:
            self.fail(f"{number} is out of range ({minimum}..{maximum})")
        return number

    def boolean(self) -> bool:
        """``true`` or ``false``."""
        return bool(self._scalar(_BOOL))

    def day(self) -> date:
        """A calendar date written ``YYYY-MM-DD`` (no time of day)."""
        value = self._scalar(_DATE)
        if isinstance(value, datetime) or not isinstance(value, date):
            self.fail("expected a date (YYYY-MM-DD) without a time")
        return value

    def code(self) -> str:
        """A stable ascii code such as ``integrity.gifts``."""
        return self.string(CODE_RE, "a code (lower-case ascii words joined by '.')")

    def version(self) -> str:
        """A data version such as ``"2026.1"`` (year, dot, release)."""
        return self.string(VERSION_RE, 'a version like "2026.1"')


def read_document(path: Path) -> Value:
    """Compose one YAML file into a root :class:`Value`; unreadable or invalid YAML is refused."""
    file = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataFileError(file, None, "", "not UTF-8 text") from None
    except OSError as exc:
        raise DataFileError(file, None, "", f"cannot read: {exc.strerror}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        problem = str(exc.problem)
        if problem.startswith("but ") and exc.context:  # "expected a single document …, but …"
            problem = f"{exc.context}, {problem}"
        raise DataFileError(file, line, "", f"invalid YAML: {problem}") from exc
    if root is None:
        raise DataFileError(file, 1, "", "file is empty")
    return Value(file, "", root)
