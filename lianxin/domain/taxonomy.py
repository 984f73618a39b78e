"""The classification lists as typed, frozen values (loaded by :mod:`.datafiles`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Generic, TypeVar


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One item of a list: a stable code and its Chinese and English labels."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True, kw_only=True)
class ProblemType(Entry):
    """问题类别 (``parent`` is None) or 细类 (``parent`` is the category's code)."""

    parent: str | None = None


@dataclass(frozen=True, kw_only=True)
class Rank(Entry):
    """Rank of the reported person; ``band`` orders and groups ranks for statistics
    (1 = most senior; ranks sharing a band are counted together)."""

    band: int


@dataclass(frozen=True, kw_only=True)
class ItemType(Entry):
    """检举控告 / 申诉 / …; ``in_scope`` is False for items forwarded or filed away."""

    in_scope: bool


@dataclass(frozen=True, kw_only=True)
class Channel(Entry):
    """How an item reached the office (letter, visit, 12388 phone, …)."""


@dataclass(frozen=True, kw_only=True)
class Region(Entry):
    """A county or a town; towns name their county as ``parent``."""

    level: str
    parent: str | None = None


@dataclass(frozen=True, kw_only=True)
class Unit(Entry):
    """A handling unit; ``kind`` is ``internal`` (our commission) or ``external`` (转办 target)."""

    kind: str
    region: str | None = None


@dataclass(frozen=True, kw_only=True)
class Tag(Entry):
    """A special-ledger tag (专项台账), e.g. poverty alleviation."""


@dataclass(frozen=True, kw_only=True)
class Disposition(Entry):
    """A routing (交办/转办/直查快办) or a disposition of a lead (谈话函询, 初步核实, …)."""

    stage: str


E = TypeVar("E", bound=Entry)


@dataclass(frozen=True)
class Catalogue(Generic[E]):
    """A validated, versioned list with lookups by code, in file order."""

    name: str
    version: str
    source: str
    items: tuple[E, ...]
    _by_code: Mapping[str, E] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", MappingProxyType({i.code: i for i in self.items}))

    def __getitem__(self, code: str) -> E:
        return self._by_code[code]

    def get(self, code: str) -> E | None:
        """The item with this code, or None."""
        return self._by_code.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[E]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def codes(self) -> tuple[str, ...]:
        """All codes, in file order."""
        return tuple(i.code for i in self.items)


@dataclass(frozen=True)
class Taxonomy:
    """Every classification list the desk uses for registration and statistics."""

    problem_types: Catalogue[ProblemType]
    ranks: Catalogue[Rank]
    item_types: Catalogue[ItemType]
    channels: Catalogue[Channel]
    regions: Catalogue[Region]
    units: Catalogue[Unit]
    tags: Catalogue[Tag]
    dispositions: Catalogue[Disposition]

    def categories(self) -> tuple[ProblemType, ...]:
        """First-level problem types (问题类别), in file order."""
        return tuple(p for p in self.problem_types if p.parent is None)

    def subtypes(self, category: str) -> tuple[ProblemType, ...]:
        """Second-level problem types (细类) under ``category``, in file order."""
        return tuple(p for p in self.problem_types if p.parent == category)
