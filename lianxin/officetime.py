"""The office's time zone: one setting that every part reads.

An office works in one time zone, and every date Lianxin writes is a date there: the day the
gateway received a report, the desk's "today" for deadlines and warnings, the publisher's build
date and the status page's "as of". The machine's own zone (often UTC on a server) plays no
part: between 00:00 and 08:00 in China a UTC machine is still on the previous day.

The zone is the environment variable ``LIANXIN_TIMEZONE`` (an IANA name), ``Asia/Shanghai``
when it is unset. Set it once in the environment the gateway, the desk and the publisher run
in; ``lianxin gateway serve --timezone`` reads the same variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_VAR = "LIANXIN_TIMEZONE"
DEFAULT_ZONE = "Asia/Shanghai"


class OfficeZoneError(ValueError):
    """The configured office time zone is not a known IANA zone."""


def office_zone_name(environ: Mapping[str, str] | None = None) -> str:
    """The configured zone's name: ``LIANXIN_TIMEZONE`` or ``Asia/Shanghai``."""
    env = os.environ if environ is None else environ
    return env.get(ENV_VAR, "").strip() or DEFAULT_ZONE


def zone(name: str) -> ZoneInfo:
    """The zone called ``name``, or :class:`OfficeZoneError` naming the setting."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise OfficeZoneError(
            f"{ENV_VAR}: unknown time zone {name!r} (an IANA name such as {DEFAULT_ZONE})"
        ) from exc


def office_zone(environ: Mapping[str, str] | None = None) -> ZoneInfo:
    """The office's time zone, from ``LIANXIN_TIMEZONE`` (default ``Asia/Shanghai``)."""
    return zone(office_zone_name(environ))


def office_today(now: datetime | None = None, tz: ZoneInfo | None = None) -> date:
    """Today's date in the office (``now`` defaults to the current instant)."""
    where = tz or office_zone()
    return (now.astimezone(where) if now else datetime.now(where)).date()
