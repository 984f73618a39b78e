"""``lianxin demo``."""

from __future__ import annotations

import socket
from pathlib import Path

import click

from .run import DemoState, make_keys, running_gateway, say, submit_samples


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
@click.option("--port", type=int, default=0, help="Gateway port [default: a free port].")
@click.option(
    "--pow-difficulty",
    type=int,
    default=16,
    show_default=True,
    help="Proof-of-work difficulty for the demo gateway.",
)
@click.option("--no-serve", is_flag=True, help="Stop after the steps instead of serving.")
def demo_command(root: Path, port: int, pow_difficulty: int, no_serve: bool) -> None:
    """Keys, gateway, sample reports through the real protocol, printed tokens."""
    root.mkdir(parents=True, exist_ok=True)
    state = DemoState(root.resolve())
    make_keys(state)
    with running_gateway(state, port or _free_port(), pow_difficulty):
        submit_samples(state)
        if not no_serve:
            say(f"Gateway running at {state.gateway_url} — press Ctrl+C to stop")
            try:
                import time

                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
