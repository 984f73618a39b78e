"""``lianxin gateway``: serve the gateway, export its OpenAPI document."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import click

from lianxin.keys import KeyError_, load_gateway_keys
from lianxin.officetime import DEFAULT_ZONE, ENV_VAR
from lianxin.store.db import StoreError, connect

from .settings import GatewaySettings, SettingsError


@click.group("gateway")
def gateway_group() -> None:
    """Run the submission gateway."""


def _settings(db: Path, keys: Path, **options: object) -> GatewaySettings:
    try:
        return GatewaySettings(db_path=db, keys_dir=keys, **options)  # type: ignore[arg-type]
    except SettingsError as exc:
        raise click.BadParameter(str(exc)) from exc


@gateway_group.command("serve")
@click.option("--db", type=click.Path(path_type=Path), required=True, help="SQLite store.")
@click.option(
    "--create",
    is_flag=True,
    help="Create the store (and its folder) if it does not exist; without it a missing store"
    " is refused.",
)
@click.option(
    "--keys",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Keys folder (public keys, gateway.key, gateway.secret).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8700, show_default=True, help="Port to listen on.")
@click.option(
    "--pow-difficulty",
    type=int,
    default=20,
    show_default=True,
    help="Proof-of-work difficulty in bits (about 2**bits hashes per submission).",
)
@click.option(
    "--pow-ttl",
    "pow_ttl_seconds",
    type=int,
    default=600,
    show_default=True,
    help="Seconds a challenge stays valid.",
)
@click.option(
    "--max-body",
    "max_body_bytes",
    type=int,
    default=16 * 1024 * 1024,
    show_default=True,
    help="Largest request body in bytes.",
)
@click.option(
    "--max-attachments",
    type=int,
    default=10,
    show_default=True,
    help="Most attachments a client should send (published with the limits).",
)
@click.option(
    "--portal-origin", default=None, help="The portal's origin, the only one allowed by CORS."
)
@click.option(
    "--timezone",
    envvar=ENV_VAR,
    default=DEFAULT_ZONE,
    show_default=True,
    help=f"The office's time zone (received dates are the office's dates); the desk and the "
    f"publisher read the same {ENV_VAR} variable: set that once rather than this option.",
)
@click.option(
    "--today",
    default=None,
    metavar="YYYY-MM-DD",
    help="Stamp this office date instead of the clock's (demo and test gateways only).",
)
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve Prometheus metrics at http://127.0.0.1:PORT/metrics (loopback only).",
)
@click.option(
    "--header-timeout",
    "header_timeout_seconds",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds a connection has to send a request's headers.",
)
@click.option(
    "--body-timeout",
    "body_timeout_seconds",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds a request has to send its whole body.",
)
@click.option(
    "--max-connections",
    type=int,
    default=None,
    help="Most open connections (default: the file descriptor limit less 64); the oldest"
    " idle one is closed to admit another.",
)
def serve_command(
    db: Path, keys: Path, create: bool, host: str, port: int, **options: object
) -> None:
    """Serve the gateway on HOST:PORT (no access log, no cookies)."""
    from .serve import serve

    settings = _settings(db, keys, **options)
    try:
        load_gateway_keys(keys)  # keys first: they are the commoner mistake
        _check_store(db, create)
        if settings.metrics_port is not None:
            _check_port(settings.metrics_port)
        serve(settings, host, port)
    except KeyError_ as exc:
        raise click.ClickException(str(exc)) from exc


def _check_store(db: Path, create: bool) -> None:
    # Open, migrate and check the schema here, so that a missing, foreign or newer store is
    # one line on the terminal rather than a failed start of the intake worker.
    if create:
        db.parent.mkdir(parents=True, exist_ok=True)
    elif not db.is_file():
        raise click.BadParameter(
            f"no store at {db} (pass --create to start a new, empty store)", param_hint="--db"
        )
    try:
        connect(db, create=create).conn.close()
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc


def _check_port(port: int) -> None:
    # A port already taken is one line here, not a failed start of the application.
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise click.BadParameter(
                f"cannot listen on 127.0.0.1:{port} ({exc.strerror})", param_hint="--metrics-port"
            ) from exc


@gateway_group.command("openapi")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
def openapi_command(out: Path | None) -> None:
    """Print the gateway's OpenAPI document."""
    from .openapi_export import openapi_document

    text = json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"
    if out:
        out.write_text(text)
    else:
        click.echo(text, nl=False)
