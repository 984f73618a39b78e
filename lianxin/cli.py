"""The ``lianxin`` command: a thin shell over the libraries.

Each command parses its arguments, calls one library function and turns library errors into a
one-line message and a non-zero exit code. Tokens are printed, never logged or written unless
``--token-out`` asks for it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from . import __version__, keys
from .client import (
    ClientError,
    GatewayClient,
    load_published_keys,
    read_attachments,
    submit_followup,
    submit_report,
)
from .protocol import ProtocolError, Token
from .protocol.documents import RATINGS, REPORT, validate_report
from .protocol.strict_json import loads_strict


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn the libraries' errors into ``Error: ...`` and exit status 1."""
    try:
        yield
    except (ClientError, ProtocolError, keys.KeyError_, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lianxin")
def main() -> None:
    """Lianxin: signed-submission gateway, office desk and transparency portal."""


# --- keys -----------------------------------------------------------------------------------
key_dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=Path("keys"),
    show_default=True,
    help="Folder of the key files.",
)


@main.group("keys")
def keys_group() -> None:
    """Create, list, rotate and export the installation's keys."""


@keys_group.command("init")
@key_dir_option
def keys_init(directory: Path) -> None:
    """Create the office, gateway and publisher keys and the gateway secret.

    Private files are written with mode 0600 and are git-ignored. Refuses to overwrite.
    """
    with friendly_errors():
        keyring = keys.init_keys(directory)
    click.echo(f"Created keys in {directory}:")
    _print_keyring(keyring)


@keys_group.command("show")
@key_dir_option
def keys_show(directory: Path) -> None:
    """Print key ids and fingerprints (public information only)."""
    with friendly_errors():
        _print_keyring(keys.load_keyring(directory))


@keys_group.command("rotate")
@click.argument("which", type=click.Choice(["office"]))
@key_dir_option
def keys_rotate(which: str, directory: Path) -> None:
    """Add a new office key. Older keys stay listed: their reports remain openable."""
    with friendly_errors():
        info = keys.rotate_office(directory)
    click.echo(
        f"New office key {info.key_id} (serial {info.serial}); restart the gateway and "
        "republish the portal so clients use it."
    )


@keys_group.command("export")
@key_dir_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Where to write keys.json; keys.json.sig is written beside it.",
)
def keys_export(directory: Path, out: Path) -> None:
    """Write the published keys (keys.json) signed by the publisher key (keys.json.sig)."""
    with friendly_errors():
        keys.export_published(directory, out)
    click.echo(f"Wrote {out} and {out}.sig")


def _print_keyring(keyring: keys.Keyring) -> None:
    current = keyring.current_office.key_id
    for info in (
        *sorted(keyring.office, key=lambda k: k.serial),
        keyring.gateway,
        keyring.publisher,
    ):
        mark = " (current)" if info.key_id == current else ""
        click.echo(f"  {info.kind:<9} {info.alg:<7} {info.key_id}{mark}")
        click.echo(f"            fingerprint {keys.group_fingerprint(info.fingerprint)}")


# --- client ---------------------------------------------------------------------------------
def _read_token(value: str) -> Token:
    if value == "-":
        value = sys.stdin.readline()
    return Token.parse(value.strip())


keys_option = click.option(
    "--keys",
    "keys_source",
    required=True,
    help="Published keys: the portal's keys.json (file or URL) or a keys folder.",
)
pin_option = click.option(
    "--publisher-fingerprint", default=None, help="Refuse keys not signed by this publisher key."
)
attach_option = click.option(
    "--attach",
    "attach",
    type=click.Path(path_type=Path, dir_okay=False),
    multiple=True,
    help="A file to attach (repeat for more).",
)


@main.command("submit")
@click.option("--gateway", required=True, help="Gateway base URL, e.g. https://gw.example.org")
@keys_option
@pin_option
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The report as a JSON file (see the protocol page).",
)
@attach_option
@click.option(
    "--receipt-out",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to save the signed receipt [default: receipt-<id>.json].",
)
@click.option(
    "--token-out",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the token to this file (mode 0600).",
)
def submit(
    gateway: str,
    keys_source: str,
    publisher_fingerprint: str | None,
    report_path: Path,
    attach: tuple[Path, ...],
    receipt_out: Path | None,
    token_out: Path | None,
) -> None:
    """Seal, sign and send a report; print the tracking token and save the receipt."""
    with friendly_errors():
        report = _load_json(report_path)
        try:  # before any network: name every missing or bad field of the file at once
            validate_report(dict(report, schema=REPORT))
        except ProtocolError as exc:
            raise click.ClickException(f"{report_path}: {exc}") from exc
        attachments = read_attachments(attach)
        published = load_published_keys(keys_source, publisher_fingerprint=publisher_fingerprint)
        with GatewayClient(gateway) as client:
            result = submit_report(client, published, report, attachments)
        receipt_path = receipt_out or Path(f"receipt-{result.receipt.receipt_id.hex()[:12]}.json")
        receipt_path.write_text(json.dumps(result.receipt.to_json(), indent=2) + "\n")
        if token_out is not None:
            fd = os.open(token_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(result.token + "\n")
    note = " (this report was already stored; the token is new)" if result.duplicate else ""
    click.echo(f"Report received{note}. Your tracking token:\n\n    {result.token}\n")
    click.echo("Keep it safe and private: it is the only key to your case and cannot be recovered.")
    click.echo(f"Signed receipt saved to {receipt_path} (received {result.receipt.received}).")


@main.command("followup")
@click.option("--gateway", required=True, help="Gateway base URL.")
@keys_option
@pin_option
@click.option(
    "--token",
    "token_text",
    envvar="LIANXIN_TOKEN",
    required=True,
    help="Your tracking token, '-' to read it from standard input, or set LIANXIN_TOKEN.",
)
@click.option(
    "--satisfaction",
    type=click.Choice(RATINGS),
    default=None,
    help="Answer the office: satisfied, basically (satisfied) or not (satisfied).",
)
@click.option("--text", default=None, help="A comment or the additional material as text.")
@click.option(
    "--text-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Read the text from a file.",
)
@attach_option
def followup(
    gateway: str,
    keys_source: str,
    publisher_fingerprint: str | None,
    token_text: str,
    satisfaction: str | None,
    text: str | None,
    text_file: Path | None,
    attach: tuple[Path, ...],
) -> None:
    """Send additional material or a satisfaction answer for your case."""
    with friendly_errors():
        token = _read_token(token_text)
        body = text_file.read_text() if text_file else (text or "")
        doc: dict[str, Any] = (
            {"type": "satisfaction", "rating": satisfaction, "text": body}
            if satisfaction
            else {"type": "material", "text": body}
        )
        if not satisfaction and not body and not attach:
            raise click.UsageError("give --satisfaction, --text, --text-file or --attach")
        published = load_published_keys(keys_source, publisher_fingerprint=publisher_fingerprint)
        with GatewayClient(gateway) as client:
            receipt = submit_followup(
                client, published, token.keys(), doc, read_attachments(attach)
            )
    click.echo(f"Follow-up received on {receipt.received} (receipt {receipt.receipt_id.hex()}).")


# `lianxin status` exits 3 when the site has no case for the token (0: shown, 1: an error).
NOT_FOUND_EXIT = 3


@main.command("status")
@click.option("--site", required=True, help="The portal: a URL or a built site folder.")
@click.argument("token_text", metavar="TOKEN", envvar="LIANXIN_TOKEN")
def status_command(site: str, token_text: str) -> None:
    """Show your case's status, what you sent and the office's answer (TOKEN: '-' for stdin).

    Exits 0 when the case is shown, 3 when the site has no case for the token (not yet
    published, or mistyped in a way the check symbol cannot catch), 1 on any other error.
    """
    from .status import StatusError, read_status

    with friendly_errors():
        token = _read_token(token_text)
        try:
            found = read_status(site, token)
        except StatusError as exc:
            raise click.ClickException(str(exc)) from exc
    if found is None:
        click.echo(
            "No case with this token is published yet (new reports appear after the "
            "next publication).",
            err=True,
        )
        raise SystemExit(NOT_FOUND_EXIT)
    for line in found.lines():
        click.echo(line)
    _show_log_entries(site, found.status.get("log") or [])


def _show_log_entries(site: str, entries: list[dict[str, Any]]) -> None:
    """Verify and show the token's entries in the office's public log."""
    from .tlog.client import log_lines

    for line in log_lines(site, entries):
        click.echo(line)


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from exc
    try:
        doc = loads_strict(data)  # strict as the gateway reads it: a repeated key is refused
    except ProtocolError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise click.ClickException(f"{path}: expected a JSON object")
    return doc
