"""``lianxin publish`` and ``lianxin verify-site``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from lianxin.keys import KeyError_
from lianxin.officetime import OfficeZoneError, office_today
from lianxin.store.db import StoreError, connect

from .browser import gateway_origin
from .build import PublishSettings, check_site_url, publish
from .children import collect_children, default_cache, directory_children
from .errors import PublisherError
from .headers import write_nginx_csp_map
from .manifest import verify_site


def _date(value: str | None) -> date:
    if value is None:
        try:
            return office_today()
        except OfficeZoneError as exc:
            raise click.ClickException(str(exc)) from exc
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-23") from exc


def _gateway_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            gateway_origin(value)
        except PublisherError as exc:
            raise click.BadParameter(str(exc)) from exc
    return value


def _site_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_site_url(value)
    except PublisherError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.command("publish")
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The SQLite store.",
)
@click.option(
    "--keys",
    "keys_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Keys folder (public keys and publisher.key).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Where the site goes (replaced atomically when the build succeeds).",
)
@click.option(
    "--leaders",
    "leaders_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Reception leaders YAML [default: portal/data/leaders.yaml].",
)
@click.option(
    "--gateway-url",
    default=None,
    callback=_gateway_url,
    help="The gateway the submit and status pages send to (https, or http on loopback); "
    "without it the pages cannot send.",
)
@click.option(
    "--site-url",
    default=None,
    callback=_site_url,
    help="Where the site will be served (e.g. https://portal.example.org/): absolute "
    "language-alternate and canonical links, and the status page's command-line hint.",
)
@click.option("--today", default=None, help="Build as of this date (YYYY-MM-DD).")
@click.option(
    "--threshold",
    type=click.IntRange(2, 1000),
    default=10,
    show_default=True,
    help="Counts below this are suppressed.",
)
@click.option(
    "--dp-epsilon",
    type=float,
    default=None,
    help="Add discrete Laplace noise with this epsilon per release (OpenDP).",
)
@click.option(
    "--log-origin",
    default=None,
    help="The public log's name in its checkpoints, e.g. jubao.example.gov.cn/log "
    "[default: lianxin/<publisher key id>]. Keep it once chosen.",
)
@click.option(
    "--cosignature",
    "cosignatures",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    multiple=True,
    help="A witness's cosigned copy of the current checkpoint (from lianxin witness); repeatable.",
)
@click.option(
    "--log-witness",
    "log_witnesses",
    multiple=True,
    metavar="VKEY",
    help="A witness whose cosignature the status page checks (its verifier key); repeatable.",
)
@click.option(
    "--log-quorum",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="How many of the --log-witness witnesses must have cosigned for the status page.",
)
@click.option(
    "--nginx-csp",
    "nginx_csp",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write every page's Content-Security-Policy to FILE, as an nginx map include "
    "(see deploy/nginx).",
)
@click.option(
    "--children",
    "collect",
    is_flag=True,
    help="First collect each child office's published release (from the portal URL on its "
    "pinned card), verified against the directory, for the roll-up page.",
)
@click.option(
    "--children-from",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=None,
    help="With --children: read each child's built site from DIR/<office id>/ instead of HTTP.",
)
@click.option(
    "--children-cache",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the verified child releases are kept [default: beside the store, "
    "<store>.children/].",
)
@click.option("--serve", is_flag=True, help="Preview the site on loopback after building.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port for --serve.")
def publish_command(
    db_path: Path,
    keys_dir: Path,
    out: Path,
    leaders_file: Path | None,
    gateway_url: str | None,
    site_url: str | None,
    today: str | None,
    threshold: int,
    dp_epsilon: float | None,
    log_origin: str | None,
    cosignatures: tuple[Path, ...],
    log_witnesses: tuple[str, ...],
    log_quorum: int,
    nginx_csp: Path | None,
    collect: bool,
    children_from: Path | None,
    children_cache: Path | None,
    serve: bool,
    port: int,
) -> None:
    """Build the portal from the store into OUT and sign it."""
    if not db_path.exists():
        raise click.ClickException(f"{db_path}: no such database")
    if children_from is not None and not collect:
        raise click.BadParameter("give --children too", param_hint="--children-from")
    if collect:
        _collect(db_path, children_from, children_cache or default_cache(db_path))
    settings = PublishSettings(
        db_path=db_path,
        keys_dir=keys_dir,
        out=out,
        today=_date(today),
        leaders_file=leaders_file,
        threshold=threshold,
        dp_epsilon=dp_epsilon,
        gateway_url=gateway_url,
        log_origin=log_origin,
        cosignatures=cosignatures,
        log_witnesses=log_witnesses,
        log_quorum=log_quorum,
        site_url=site_url,
        children_cache=children_cache,
    )
    try:
        result = publish(settings, progress=lambda m: click.echo(f"  {m}", err=True))
        if nginx_csp is not None:
            pages = write_nginx_csp_map(result.out, nginx_csp)
            click.echo(f"  wrote the policies of {pages} page paths to {nginx_csp}", err=True)
    except (PublisherError, KeyError_, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Published {result.files} files to {result.out} "
        f"({result.status['tokens']} tokens in {result.status['shards']} status shards "
        f"of {result.status['shard_bytes']} bytes); public log: {result.log.get('size', 0)} "
        "entries"
    )
    if serve:
        from .serve import make_server

        server = make_server(result.out, port=port)
        click.echo(f"Serving http://127.0.0.1:{server.server_address[1]}/ — Ctrl+C to stop")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            server.server_close()


def _collect(db_path: Path, source: Path | None, cache: Path) -> None:
    """Collect the child offices' releases; each refusal is named, the build goes on without."""
    try:
        db = connect(db_path)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        children = directory_children(db)
    finally:
        db.conn.close()
    if not children:
        click.echo("  no child office in the directory: nothing to collect", err=True)
        return
    outcomes = collect_children(children, cache, source=source)
    for outcome in outcomes:
        if outcome.refused:
            click.echo(f"  refused {outcome.office_id}: {outcome.refused}", err=True)
        else:
            click.echo(f"  collected {outcome.office_id}: {outcome.months} month(s)", err=True)


@click.command("verify-site")
@click.argument("site")
@click.option(
    "--publisher-fingerprint",
    default=None,
    help="Expected publisher key fingerprint (otherwise the site's own keys.json).",
)
def verify_site_command(site: str, publisher_fingerprint: str | None) -> None:
    """Check a built site (folder or URL) against its signed manifest."""
    try:
        verified = verify_site(site, publisher_fingerprint=publisher_fingerprint)
    except PublisherError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"OK: {verified.files} files match the manifest signed by publisher key "
        f"{verified.publisher_fingerprint}"
    )
