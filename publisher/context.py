"""The state a build shares with its page producers: the settings and the work folder.

It sits beneath :mod:`publisher.build` and the page producers (:mod:`publisher.statpage`,
:mod:`publisher.leaderpage`), so that the producers need not import the build that runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .errors import PublisherError

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("zh", "en")


class BuildError(PublisherError):
    """The site could not be built; the published site is unchanged."""


@dataclass(frozen=True)
class PublishSettings:
    """What a build needs."""

    db_path: Path
    keys_dir: Path
    out: Path
    today: date
    portal_dir: Path = ROOT / "portal"
    config_file: Path = ROOT / "mkdocs.yml"
    leaders_file: Path | None = None
    threshold: int = 10
    dp_epsilon: float | None = None
    warning_days: int = 5
    gateway_url: str | None = None  # where the submit and status pages send; None: nowhere
    site_url: str | None = None  # where the site is served (absolute hreflang/canonical links)
    node_modules: Path = ROOT / "node_modules"  # libsodium-wrappers, installed by `npm ci`
    log_origin: str | None = None  # the public log's name; None: "lianxin/<publisher key id>"
    cosignatures: tuple[Path, ...] = ()  # witness-cosigned copies of the current checkpoint
    log_witnesses: tuple[str, ...] = ()  # witness vkeys the status page checks …
    log_quorum: int = 0  # … of which this many must have cosigned
    children_cache: Path | None = None  # child offices' releases; None: beside the store


@dataclass
class Build:
    """The state of one build, shared by the page producers."""

    settings: PublishSettings
    work: Path
    db: Any
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def docs(self) -> Path:
        return self.work / "portal" / "docs"


PageProducer = Callable[[Build], None]
