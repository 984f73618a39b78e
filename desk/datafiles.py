"""The desk's classification lists, loaded from versioned YAML files and strictly validated.

Each file in ``desk/data/`` has a top-level ``version`` (``"2026.1"``) and a non-empty list of
``items``; every item has a stable ascii ``code`` plus ``zh`` and ``en`` labels, and a few
kind-specific fields. Anything unexpected (unknown or missing field, wrong type, duplicate
code, a subtype whose parent does not exist) raises :class:`~desk.errors.DataFileError`
naming the file, line and field. Lists are data, not code, so an office can replace one file
without a release: ``load_taxonomy(replacements={"ranks": Path("our-ranks.yaml")})``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Generic, TypeVar

from .errors import DataFileError
from .yamlnodes import Value, display_path, read_document

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"
MAX_BAND = 20


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


# Each kind: its file stem, its extra required and optional fields and how to build an item.
_Fields = dict[str, Value]


@dataclass(frozen=True)
class _Kind(Generic[E]):
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    build: Callable[[str, str, str, _Fields], E]


def _opt_code(fields: _Fields, name: str) -> str | None:
    return fields[name].code() if name in fields else None


def _problem_type(code: str, zh: str, en: str, f: _Fields) -> ProblemType:
    return ProblemType(code=code, zh=zh, en=en, parent=_opt_code(f, "parent"))


def _rank(code: str, zh: str, en: str, f: _Fields) -> Rank:
    return Rank(code=code, zh=zh, en=en, band=f["band"].integer(1, MAX_BAND))


def _item_type(code: str, zh: str, en: str, f: _Fields) -> ItemType:
    return ItemType(code=code, zh=zh, en=en, in_scope=f["in_scope"].boolean())


def _channel(code: str, zh: str, en: str, f: _Fields) -> Channel:
    return Channel(code=code, zh=zh, en=en)


def _region(code: str, zh: str, en: str, f: _Fields) -> Region:
    level = f["level"].choice({"county", "town"})
    return Region(code=code, zh=zh, en=en, level=level, parent=_opt_code(f, "parent"))


def _unit(code: str, zh: str, en: str, f: _Fields) -> Unit:
    kind = f["kind"].choice({"internal", "external"})
    return Unit(code=code, zh=zh, en=en, kind=kind, region=_opt_code(f, "region"))


def _tag(code: str, zh: str, en: str, f: _Fields) -> Tag:
    return Tag(code=code, zh=zh, en=en)


def _disposition(code: str, zh: str, en: str, f: _Fields) -> Disposition:
    return Disposition(code=code, zh=zh, en=en, stage=f["stage"].choice({"routing", "disposition"}))


_PROBLEM_TYPES = _Kind("problem_types", (), ("parent",), _problem_type)
_RANKS = _Kind("ranks", ("band",), (), _rank)
_ITEM_TYPES = _Kind("item_types", ("in_scope",), (), _item_type)
_CHANNELS = _Kind("channels", (), (), _channel)
_REGIONS = _Kind("regions", ("level",), ("parent",), _region)
_UNITS = _Kind("units", ("kind",), ("region",), _unit)
_TAGS = _Kind("tags", (), (), _tag)
_DISPOSITIONS = _Kind("dispositions", ("stage",), (), _disposition)

KINDS = (
    "problem_types",
    "ranks",
    "item_types",
    "channels",
    "regions",
    "units",
    "tags",
    "dispositions",
)
"""The list names, which are also the file stems in the data directory."""


@dataclass(frozen=True)
class _Loaded(Generic[E]):
    catalogue: Catalogue[E]
    where: Mapping[str, _Fields]  # code -> the item's fields, to point later checks at a line


def _load(spec: _Kind[E], files: Mapping[str, Path]) -> _Loaded[E]:
    path = files[spec.name]
    top = read_document(path).mapping(required=("version", "items"))
    version = top["version"].version()
    entries: list[E] = []
    where: dict[str, _Fields] = {}
    for item in top["items"].sequence(non_empty=True):
        fields = item.mapping(("code", "zh", "en", *spec.required), spec.optional)
        code = fields["code"].code()
        if code in where:
            fields["code"].fail(f"duplicate code {code!r}")
        entries.append(spec.build(code, fields["zh"].string(), fields["en"].string(), fields))
        where[code] = fields
    return _Loaded(Catalogue(spec.name, version, display_path(path), tuple(entries)), where)


def _check_problem_types(loaded: _Loaded[ProblemType]) -> None:
    types = loaded.catalogue
    for item in types:
        fields = loaded.where[item.code]
        if item.parent is None:
            if "." in item.code:
                fields["code"].fail(f"{item.code!r} looks like a subtype but has no parent")
            continue
        parent = types.get(item.parent)
        if parent is None:
            fields["parent"].fail(f"unknown parent {item.parent!r}")
        if parent.parent is not None:
            fields["parent"].fail(f"{item.parent!r} is itself a subtype; only two levels are allowed")
        if not item.code.startswith(item.parent + "."):
            fields["code"].fail(f"{item.code!r} must start with its parent's code '{item.parent}.'")


def _check_ranks(loaded: _Loaded[Rank]) -> None:
    # File order is display order, so bands must not go back up.
    previous = 0
    for item in loaded.catalogue:
        if item.band < previous:
            loaded.where[item.code]["band"].fail(
                f"band {item.band} after band {previous}: list ranks from most to least senior"
            )
        previous = item.band


def _check_regions(loaded: _Loaded[Region]) -> None:
    regions = loaded.catalogue
    for item in regions:
        fields = loaded.where[item.code]
        if item.level == "county" and item.parent is not None:
            fields["parent"].fail("a county has no parent region")
        if item.level == "town":
            if item.parent is None:
                fields["level"].fail("a town needs a 'parent' county")
            parent = regions.get(item.parent)
            if parent is None:
                fields["parent"].fail(f"unknown parent {item.parent!r}")
            if parent.level != "county":
                fields["parent"].fail(f"{item.parent!r} is not a county")


def _check_units(loaded: _Loaded[Unit], regions: Catalogue[Region]) -> None:
    for item in loaded.catalogue:
        if item.region is not None and item.region not in regions:
            loaded.where[item.code]["region"].fail(
                f"unknown region {item.region!r} (not in {regions.source})"
            )


def load_taxonomy(
    data_dir: Path | None = None, replacements: Mapping[str, Path] | None = None
) -> Taxonomy:
    """Load and validate every list from ``data_dir`` (default: the bundled ``desk/data``).

    ``replacements`` maps a list name (one of :data:`KINDS`, e.g. ``"ranks"``) to a file that
    replaces the bundled one; it is validated exactly like the bundled files, including the
    cross-file checks (a unit's region must exist in the regions in use).

    Raises :class:`~desk.errors.DataFileError` on the first problem found.
    """
    base = DEFAULT_DATA_DIR if data_dir is None else data_dir
    files = {kind: base / f"{kind}.yaml" for kind in KINDS}
    for kind, path in (replacements or {}).items():
        if kind not in files:
            known = ", ".join(KINDS)
            raise DataFileError(display_path(path), None, "", f"unknown list {kind!r} (known: {known})")
        files[kind] = path
    problem_types = _load(_PROBLEM_TYPES, files)
    ranks = _load(_RANKS, files)
    regions = _load(_REGIONS, files)
    units = _load(_UNITS, files)
    _check_problem_types(problem_types)
    _check_ranks(ranks)
    _check_regions(regions)
    _check_units(units, regions.catalogue)
    return Taxonomy(
        problem_types=problem_types.catalogue,
        ranks=ranks.catalogue,
        item_types=_load(_ITEM_TYPES, files).catalogue,
        channels=_load(_CHANNELS, files).catalogue,
        regions=regions.catalogue,
        units=units.catalogue,
        tags=_load(_TAGS, files).catalogue,
        dispositions=_load(_DISPOSITIONS, files).catalogue,
    )
