"""``lianxin demo``: keys, gateway, sample reports, the desk, the published portal, served."""

from __future__ import annotations

import signal
import socket
import threading
from pathlib import Path

import click

from lianxin.officetime import office_today

from .run import (
    DemoState,
    add_history,
    how_to_repeat,
    how_to_serve_later,
    make_keys,
    publish_site,
    running_gateway,
    running_web_desk,
    say,
    submit_samples,
    until_interrupted,
    walk_desk,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@click.command("demo")
@click.option(
    "--dir",
    "root",
    type=click.Path(path_type=Path),
    default=Path("var/demo"),
    show_default=True,
    help="Where the demo keeps keys, database and site.",
)
@click.option(
    "--port",
    type=int,
    default=8000,
    show_default=True,
    help="Port of the portal (0: any free port).",
)
@click.option(
    "--gateway-port",
    type=int,
    default=8700,
    show_default=True,
    help="Port of the gateway (0: any free port).",
)
@click.option(
    "--pow-difficulty",
    type=int,
    default=16,
    show_default=True,
    help="Proof-of-work difficulty for the demo gateway.",
)
@click.option(
    "--desk-port",
    type=int,
    default=8800,
    show_default=True,
    help="Port of the web desk (0: any free port).",
)
@click.option("--no-serve", is_flag=True, help="Stop after the steps instead of serving.")
@click.option(
    "--linked",
    is_flag=True,
    help="Three linked offices (a city, two counties: portals on --port and the next two ports,"
    " gateways likewise); one case assigned down and back.",
)
def demo_command(
    root: Path,
    port: int,
    gateway_port: int,
    pow_difficulty: int,
    desk_port: int,
    no_serve: bool,
    linked: bool,
) -> None:
    """Run the whole path on this machine and serve the portal on loopback.

    Creates keys (once), starts the gateway, submits sample reports through the real protocol,
    walks them through the office desk, publishes the portal and serves it and the web desk
    until Ctrl+C.
    The database is started afresh on every run; the keys are kept.
    """
    from publisher.serve import make_server

    # `kill` (SIGTERM) stops the demo like Ctrl+C: the gateway and the portal are shut down,
    # not left running without their parent.
    signal.signal(signal.SIGTERM, _interrupt)
    root.mkdir(parents=True, exist_ok=True)
    if linked:
        from .linked import run_linked

        ports = [
            (port + i if port else _free_port(), gateway_port + i if gateway_port else _free_port())
            for i in range(3)
        ]
        run_linked(root / "linked", ports, pow_difficulty, office_today(), not no_serve)
        return
    state = DemoState(root.resolve())
    for stale in (state.db_path, Path(f"{state.db_path}-wal"), Path(f"{state.db_path}-shm")):
        stale.unlink(missing_ok=True)
    today = office_today()
    make_keys(state)
    site_port = port or _free_port()
    site_url = f"http://127.0.0.1:{site_port}/"
    with running_gateway(state, gateway_port or _free_port(), pow_difficulty, site_url.rstrip("/")):
        submit_samples(state)
        walk_desk(state, today)
        add_history(state, today)
        site = publish_site(state, today)
        if no_serve:  # nothing is left running: no URL to offer, only the files
            how_to_serve_later(state)
            return
        server = make_server(site, port=site_port)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        say(f"Portal served at {site_url}")
        with running_web_desk(state, desk_port or _free_port(), today) as desk_url:
            how_to_repeat(state, site_url, desk_url)
            try:
                print(
                    "\nPress Ctrl+C to stop the portal, the web desk and the gateway.", flush=True
                )
                until_interrupted()
            except KeyboardInterrupt:
                pass
            finally:
                server.shutdown()
                server.server_close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
