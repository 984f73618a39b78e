"""The desk's classification lists, loaded from versioned YAML files and strictly validated.

Each file in ``lianxin/domain/data/`` has a top-level ``version`` (``"2026.1"``) and a
non-empty list of
``items``; every item has a stable ascii ``code`` plus ``zh`` and ``en`` labels, and a few
kind-specific fields. Anything unexpected (unknown or missing field, wrong type, duplicate
code, a subtype whose parent does not exist) raises :class:`~lianxin.domain.errors.DataFileError`
naming the file, line and field. Lists are data, not code, so an office can replace one file
without a release: ``load_taxonomy(replacements={"ranks": Path("our-ranks.yaml")})``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic

from .errors import DataFileError
from .taxonomy import (
    Catalogue,
    Channel,
    Disposition,
    E,
    Entry,
    ItemType,
    ProblemType,
    Rank,
    Region,
    Tag,
    Taxonomy,
    Unit,
)
from .yamlnodes import Value, display_path, read_document

__all__ = [
    "DEFAULT_DATA_DIR",
    "KINDS",
    "Catalogue",
    "Channel",
    "DataFileError",
    "Disposition",
    "Entry",
    "ItemType",
    "ProblemType",
    "Rank",
    "Region",
    "Tag",
    "Taxonomy",
    "Unit",
    "load_taxonomy",
]

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"
MAX_BAND = 20  # ranks are few; a larger band number is a typo


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
            fields["parent"].fail(f"{item.parent!r} is a subtype itself; only two levels allowed")
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
    """Load and validate every list from ``data_dir`` (default: ``lianxin/domain/data``).

    ``replacements`` maps a list name (one of :data:`KINDS`, e.g. ``"ranks"``) to a file that
    replaces the bundled one; it is validated exactly like the bundled files, including the
    cross-file checks (a unit's region must exist in the regions in use).

    Raises :class:`~lianxin.domain.errors.DataFileError` on the first problem found.
    """
    base = DEFAULT_DATA_DIR if data_dir is None else data_dir
    files = {kind: base / f"{kind}.yaml" for kind in KINDS}
    for kind, path in (replacements or {}).items():
        if kind not in files:
            known = ", ".join(KINDS)
            problem = f"unknown list {kind!r} (known: {known})"
            raise DataFileError(display_path(path), None, "", problem)
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
