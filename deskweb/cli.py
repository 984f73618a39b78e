"""``lianxin desk serve``: the web desk on the office's network (added to the desk group by
``lianxin_cli``, since ``desk`` never imports this package)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from desk.cli_common import DeskCommand, boundary
from desk.refusals import BadValue
from desk.values import parse_day

from .desks import WebSettings


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@click.command("serve", cls=DeskCommand)
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    envvar="LIANXIN_DB",
    required=True,
    help="The SQLite store.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (keep loopback behind the office's TLS proxy).",
)
@click.option("--port", type=int, default=8800, show_default=True, help="Port to listen on.")
@click.option(
    "--idle-minutes",
    type=float,
    default=15.0,
    show_default=True,
    help="Sign an idle officer out (and wipe their keys) after this many minutes.",
)
@click.option(
    "--lock-minutes",
    type=float,
    default=5.0,
    show_default=True,
    help="Lock an account this long after the fifth wrong passphrase in a row.",
)
@click.option(
    "--secure-cookies",
    is_flag=True,
    help="Mark cookies Secure: required when served over HTTPS by the proxy.",
)
@click.option(
    "--today",
    default=None,
    metavar="YYYY-MM-DD",
    help="Fix the desk's day (demo and test stores only).",
)
@click.option(
    "--policy",
    envvar="LIANXIN_POLICY",
    default=None,
    help="Deadline policy (preset or file) [default cn-jijian-2020].",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    envvar="LIANXIN_DATA_DIR",
    default=None,
    help="Folder of replacement data files.",
)
@click.option(
    "--calendar-override",
    type=click.Path(path_type=Path),
    envvar="LIANXIN_CALENDAR_OVERRIDE",
    default=None,
    help="Holiday override file for a new year's State Council notice.",
)
def serve_command(
    db: Path,
    host: str,
    port: int,
    idle_minutes: float,
    lock_minutes: float,
    secure_cookies: bool,
    today: str | None,
    policy: str | None,
    data_dir: Path | None,
    calendar_override: Path | None,
) -> None:
    """The web desk: officers sign in with their id and passphrase in a browser.

    Pages are in Chinese (English with the language link). The passphrase unlocks the
    officer's keys in this server's memory for the session only; they are wiped at sign-out,
    after --idle-minutes without activity and when the server stops. Serve it on loopback
    behind the office's TLS reverse proxy with --secure-cookies (see the staff guide).
    """
    from .serve import make_server

    with boundary():
        if not 0 < port < 65536:
            raise BadValue(f"{port} is not a port (1-65535)", "--port")
        if not _loopback(host) and not secure_cookies:
            raise BadValue(
                f"{host} is reachable from other machines: passphrases would cross the network"
                " in clear; serve on 127.0.0.1 behind the office's TLS proxy, or give"
                " --secure-cookies once TLS is in front",
                "--host",
            )
        try:
            settings = WebSettings(
                db=db,
                idle_seconds=idle_minutes * 60,
                lock_seconds=lock_minutes * 60,
                secure_cookies=secure_cookies,
                today=parse_day(today, "--today") if today else None,
                policy=policy,
                data_dir=data_dir,
                calendar_override=calendar_override,
            )
        except ValueError as exc:
            raise BadValue(str(exc).split(": ", 1)[-1], str(exc).split(":")[0]) from exc
        server = make_server(settings, host, port)  # refuses a bad store or list first
        click.echo(f"web desk on http://{host}:{port}/ (Ctrl-C stops it; keys are wiped)", err=True)
        server.run()
