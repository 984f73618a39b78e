"""The outcome list (办理结果): what a conclusion or a review found, as versioned data.

``lianxin/domain/data/outcomes.yaml`` is read with the same strict reader as the other lists
(:mod:`lianxin.domain.yamlnodes`), so a bad file is refused with its file, line and field. A data
directory given with ``--data-dir`` may carry its own ``outcomes.yaml``; without one the
bundled file is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .datafiles import DEFAULT_DATA_DIR
from .taxonomy import Catalogue, Entry
from .yamlnodes import display_path, read_document

STAGES = frozenset({"conclusion", "review"})
FINDINGS = frozenset({"substantiated", "unsubstantiated", "none"})


@dataclass(frozen=True, kw_only=True)
class Outcome(Entry):
    """An outcome; ``stage`` says when it may be recorded, ``finding`` feeds the 查实率."""

    stage: str
    finding: str


def outcomes_file(data_dir: Path | None) -> Path:
    """The outcome list in ``data_dir`` if it has one, else the bundled list."""
    if data_dir is not None and (data_dir / "outcomes.yaml").exists():
        return data_dir / "outcomes.yaml"
    return DEFAULT_DATA_DIR / "outcomes.yaml"


def load_outcomes(data_dir: Path | None = None) -> Catalogue[Outcome]:
    """Load and validate the outcome list."""
    path = outcomes_file(data_dir)
    top = read_document(path).mapping(required=("version", "items"))
    version = top["version"].version()
    items: list[Outcome] = []
    seen: set[str] = set()
    for item in top["items"].sequence(non_empty=True):
        fields = item.mapping(("code", "zh", "en", "stage", "finding"))
        code = fields["code"].code()
        if code in seen:
            fields["code"].fail(f"duplicate code {code!r}")
        seen.add(code)
        items.append(
            Outcome(
                code=code,
                zh=fields["zh"].string(),
                en=fields["en"].string(),
                stage=fields["stage"].choice(STAGES),
                finding=fields["finding"].choice(FINDINGS),
            )
        )
    return Catalogue("outcomes", version, display_path(path), tuple(items))
