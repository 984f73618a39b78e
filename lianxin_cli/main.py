"""The root ``lianxin`` command: the core's own commands plus each part's command group."""

from __future__ import annotations

from desk.cli import desk_group
from desk.cli_packages import office_group  # with its package commands
from deskweb.cli import serve_command
from gateway.cli import gateway_group
from lianxin.cli import main
from lianxin.logcli import audit_command, receipt_group, witness_command
from publisher.cli import publish_command, verify_site_command

from .demo.cli import demo_command

_COMMANDS = (
    gateway_group,
    publish_command,
    verify_site_command,
    demo_command,
    desk_group,
    office_group,
    receipt_group,
    audit_command,
    witness_command,
)
for _command in _COMMANDS:
    main.add_command(_command)
desk_group.add_command(serve_command)  # the web desk: a shell over desk, so added here

__all__ = ["main"]
