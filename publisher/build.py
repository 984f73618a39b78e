"""``lianxin publish``: the store → jinja2 → Markdown → MkDocs Material → a signed static site.

The build copies ``portal/`` and ``mkdocs.yml`` into a temporary folder beside the output,
renders the templates of ``portal/templates/`` into its ``docs/``, writes generated assets
(published keys, downloads, charts, calendar), runs MkDocs there, adds the browser pages' scripts
and a Content-Security-Policy on every page, adds the status shards (after MkDocs, so that its
work does not grow with the number of cases) and the public log of receipts (``log.py``), signs
a manifest, and swaps the result into ``--out``. Tracked files are never touched; a failed build
leaves ``--out`` as it was.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2

from lianxin.domain.workdays import add_working_days
from lianxin.keys import (
    KeyError_,
    export_published,
    group_fingerprint,
    load_keyring,
    load_publisher_signer,
)
from lianxin.offices.card import CardError, sign_card
from lianxin.offices.identity import own_card, own_identity
from lianxin.secrets import SigningSecret
from lianxin.store.db import connect
from lianxin.tlog import LogError

from .browser import gateway_origin, install_browser_assets
from .context import Build, BuildError, PublishSettings
from .csp import secure_site
from .log import append_batch, write_log, write_policy
from .manifest import write_manifest
from .pages import PRODUCERS
from .register_head import write_register_head
from .sitemap import write_sitemaps
from .status import write_status
from .themeassets import trim_theme_assets

__all__ = ["Build", "BuildError", "PublishResult", "PublishSettings", "publish", "render_templates"]

Progress = Callable[[str], None]


def _office_card(build: Build) -> None:
    """The office card (``/office.json`` and ``.sig``) once ``lianxin office init`` has set the
    office's identity; its keys come from the keys folder, dated by the build."""
    identity = own_identity(build.db)
    if identity is None:
        return
    keys_dir = build.settings.keys_dir
    try:
        card = own_card(identity, keys_dir, build.settings.today.isoformat())
        data, sig = sign_card(card, load_publisher_signer(keys_dir))
    except (CardError, KeyError_) as exc:
        raise BuildError(f"the office card: {exc}") from exc
    (build.docs / "office.json").write_bytes(data)
    (build.docs / "office.json.sig").write_text(sig + "\n")
    build.context["office_card"] = {
        "office_id": card.office_id,
        "fingerprints": [group_fingerprint(fp) for fp in card.pins()],
    }


def _keys_page(build: Build) -> None:
    keyring = load_keyring(build.settings.keys_dir)
    export_published(build.settings.keys_dir, build.docs / "keys.json")
    _office_card(build)
    build.context["keys"] = {
        "office": [
            {
                "key_id": k.key_id,
                "fingerprint": group_fingerprint(k.fingerprint),
                "created": k.created,
                "current": k.key_id == keyring.current_office.key_id,
            }
            for k in sorted(keyring.office, key=lambda k: -k.serial)
        ],
        "gateway": {
            "key_id": keyring.gateway.key_id,
            "fingerprint": group_fingerprint(keyring.gateway.fingerprint),
        },
        "publisher": {
            "key_id": keyring.publisher.key_id,
            "fingerprint": group_fingerprint(keyring.publisher.fingerprint),
        },
    }


def render_templates(build: Build) -> None:
    """Render every ``portal/templates/*.md.j2`` into the work copy's docs folder."""
    templates = build.work / "portal" / "templates"
    if not templates.is_dir():
        return
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        undefined=jinja2.StrictUndefined,
        autoescape=True,  # Markdown passes HTML entities through: values cannot inject tags
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md_escape
    for template in sorted(templates.glob("*.md.j2")):
        text = env.get_template(template.name).render(**build.context)
        (build.docs / template.name.removesuffix(".j2")).write_text(text, encoding="utf-8")


def check_site_url(url: str) -> str:
    """The site's public base URL, ending in ``/``; refused unless http(s) with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BuildError(f"site URL {url!r}: expected https://host[:port][/path/]")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise BuildError(f"site URL {url!r}: no query, fragment or user name")
    return url if url.endswith("/") else url + "/"


def _set_site_url(config_file: Path, url: str) -> None:
    # MkDocs writes canonical links, and mkdocs-static-i18n absolute hreflang links, from it.
    text = config_file.read_text(encoding="utf-8")
    line = f"site_url: {json.dumps(check_site_url(url))}\n"
    config_file.write_text(line + text, encoding="utf-8")


def _md_escape(value: object) -> str:
    text = str(value)
    for char in "\\`*_{}[]<>()#+!|":
        text = text.replace(char, "\\" + char)
    return text


def _mkdocs(build: Build, site: Path) -> None:
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    collected = _Collect()
    loggers = [logging.getLogger(), logging.getLogger("mkdocs")]
    for logger in loggers:
        logger.addHandler(collected)
    try:
        config = load_config(
            config_file=str(build.work / "mkdocs.yml"), site_dir=str(site), strict=True
        )
        # Loading the search plugin imported jieba, which logs its dictionary loading at DEBUG.
        logging.getLogger("jieba").setLevel(logging.WARNING)
        mkdocs_build(config)
    except (MkDocsException, SystemExit) as exc:
        details = "; ".join(dict.fromkeys(collected.messages)) or str(exc)
        raise BuildError(f"MkDocs failed: {details}") from exc
    finally:
        for logger in loggers:
            logger.removeHandler(collected)


class _Collect(logging.Handler):
    """Keeps MkDocs' warnings so that a failed build says what failed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _browser_pages(build: Build, site: Path) -> dict[str, int]:
    """The submit and status pages' scripts, libsodium, site config and taxonomy; then a
    Content-Security-Policy on every page (after MkDocs, when every page exists)."""
    settings = build.settings
    install_browser_assets(
        site,
        portal_dir=build.work / "portal",
        node_modules=settings.node_modules,
        keys_dir=settings.keys_dir,
        gateway_url=settings.gateway_url,
    )
    origin = gateway_origin(settings.gateway_url) if settings.gateway_url else None
    return secure_site(site, origin)


def _status(build: Build, site: Path) -> dict[str, Any]:
    today = build.settings.today
    yellow_until = add_working_days(today, build.settings.warning_days).due
    written = write_status(build.db, site / "status", today, yellow_until)
    return {"tokens": written.tokens, "shards": written.shards, "shard_bytes": written.shard_bytes}


def _log(build: Build, site: Path, signer: SigningSecret) -> dict[str, int]:
    settings = build.settings
    origin = settings.log_origin or f"lianxin/{signer.key_id}"
    write_policy(settings.log_witnesses, settings.log_quorum)  # refuse bad keys before appending
    try:
        cosigned = [p.read_text(encoding="utf-8") for p in settings.cosignatures]
        state = append_batch(build.db, origin, signer, settings.today, cosigned)
    except (LogError, UnicodeDecodeError) as exc:
        raise BuildError(f"public log: {exc}") from exc
    previous = settings.out.resolve() / "log"
    return write_log(
        build.db, state, site / "log", previous, signer, settings.log_witnesses, settings.log_quorum
    )


def _swap(new: Path, out: Path) -> None:
    old = out.parent / f".{out.name}.old-{secrets.token_hex(4)}"
    if out.exists():
        os.rename(out, old)
    os.rename(new, out)
    if old.exists():
        shutil.rmtree(old)


@dataclass(frozen=True)
class PublishResult:
    """What a build produced."""

    out: Path
    files: int
    status: dict[str, Any]
    seconds: dict[str, float]
    log: dict[str, int] = field(default_factory=dict)


def publish(settings: PublishSettings, progress: Progress = lambda _: None) -> PublishResult:
    """Build the site and swap it into ``settings.out``."""
    out = settings.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.parent / f".{out.name}.build-{secrets.token_hex(4)}"
    timings: dict[str, float] = {}
    clock = time.monotonic()

    def step(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[name] = round(now - clock, 3)
        clock = now

    signer = load_publisher_signer(settings.keys_dir)
    db = connect(settings.db_path)
    try:
        progress("copying the portal sources")
        shutil.copytree(
            settings.portal_dir,
            work / "portal",
            ignore=shutil.ignore_patterns("node_modules", "__pycache__"),
        )
        shutil.copy2(settings.config_file, work / "mkdocs.yml")
        if settings.site_url:
            _set_site_url(work / "mkdocs.yml", settings.site_url)
        context = {"today": settings.today.isoformat(), "site_url": settings.site_url}
        build = Build(settings, work, db, context)
        step("copy")
        progress("computing pages")
        for producer in [_keys_page, *list(PRODUCERS)]:
            producer(build)
        render_templates(build)
        step("pages")
        progress("running MkDocs")
        site = work / "site"
        _mkdocs(build, site)
        write_sitemaps(site)  # Material fetches one beside every language link: no 404s
        step("mkdocs")
        trimmed = trim_theme_assets(site, settings.site_url and check_site_url(settings.site_url))
        if not trimmed.lazy_search:
            progress("note: this Material version's bundle loads the search index on every page")
        progress("adding the browser pages' scripts and the security policy")
        _browser_pages(build, site)
        step("browser")
        progress("appending to the public log")
        log = _log(build, site, signer)
        step("log")
        progress("sealing status rows")
        status = _status(build, site)
        step("status")
        progress("signing the register's chain head")
        write_register_head(db, site, signer, settings.today.isoformat())
        progress("signing the manifest")
        manifest = write_manifest(site, signer, settings.today.isoformat())
        step("manifest")
        _swap(site, out)
        step("swap")
    except OSError as exc:
        raise BuildError(f"build failed: {exc}") from exc
    finally:
        db.conn.close()
        shutil.rmtree(work, ignore_errors=True)
    progress(f"published {len(manifest['files'])} files to {out}")
    return PublishResult(out, len(manifest["files"]), status, timings, log)


def write_json(path: Path, doc: Any) -> None:
    """Write JSON deterministically (for downloads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
