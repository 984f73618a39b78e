"""Gateway settings: one frozen dataclass, strictly checked, that refuses unsafe values."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lianxin.officetime import office_zone_name


class SettingsError(ValueError):
    """A setting has an unsafe or impossible value."""


@dataclass(frozen=True)
class Setting:
    """Documentation of one setting (used by --help and the docs test)."""

    name: str
    help: str


@dataclass(frozen=True)
class GatewaySettings:
    """Everything the gateway needs to start."""

    db_path: Path
    keys_dir: Path
    # 20 bits: median about 0.3-0.5 s in Chromium on this class of CPU (bench/browser_bench.py),
    # about 1-2 s on a phone; 21 would hit 1 s here but with a 3 s tail and slow phones.
    pow_difficulty: int = 20
    pow_ttl_seconds: int = 600
    max_body_bytes: int = 16 * 1024 * 1024
    max_attachments: int = 10
    portal_origin: str | None = None
    batch_max: int = 256
    # The office zone (lianxin.officetime): LIANXIN_TIMEZONE, Asia/Shanghai when unset.
    timezone: str = field(default_factory=office_zone_name)
    # A fixed office date instead of the clock's, for demo and test gateways only (tests must not
    # depend on the day they run).
    today: str | None = None
    # Operator metrics (Prometheus text) on 127.0.0.1:metrics_port; None: not served.
    metrics_port: int | None = None
    # Slow clients: whole request headers within header_timeout_seconds of connecting (or of
    # the previous answer), the whole body within body_timeout_seconds of the headers.
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    # Open connections at most (None: derived from the process's file descriptor limit).
    max_connections: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.pow_difficulty <= 40:
            raise SettingsError("pow_difficulty: must be between 1 and 40 bits")
        if not 30 <= self.pow_ttl_seconds <= 86400:
            raise SettingsError("pow_ttl_seconds: must be between 30 and 86400")
        if not 64 * 1024 <= self.max_body_bytes <= 512 * 1024 * 1024:
            # Below 64 KiB not even the smallest sealed report (a 4 KiB bucket) would fit.
            raise SettingsError("max_body_bytes: must be between 64 KiB and 512 MiB")
        if not 0 <= self.max_attachments <= 100:
            raise SettingsError("max_attachments: must be between 0 and 100")
        if not 1 <= self.batch_max <= 10_000:
            raise SettingsError("batch_max: must be between 1 and 10000")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"timezone: unknown time zone {self.timezone!r}") from exc
        if self.metrics_port is not None and not 1 <= self.metrics_port <= 65535:
            raise SettingsError("metrics_port: must be between 1 and 65535")
        if not 1 <= self.header_timeout_seconds <= 300:
            raise SettingsError("header_timeout_seconds: must be between 1 and 300")
        if not 1 <= self.body_timeout_seconds <= 3600:
            raise SettingsError("body_timeout_seconds: must be between 1 and 3600")
        if self.max_connections is not None and not 16 <= self.max_connections <= 1_000_000:
            raise SettingsError("max_connections: must be between 16 and 1000000")
        if self.today is not None:
            try:
                date.fromisoformat(self.today)
            except ValueError as exc:
                raise SettingsError(f"today: expected YYYY-MM-DD, got {self.today!r}") from exc
        if self.portal_origin is not None:
            parts = urlsplit(self.portal_origin)
            if (
                self.portal_origin == "*"
                or parts.scheme not in ("http", "https")
                or not parts.netloc
                or parts.path not in ("", "/")
                or parts.query
            ):
                raise SettingsError(
                    "portal_origin: must be one origin such as https://portal.example.org"
                    " (a wildcard would let any site use the gateway from a browser)"
                )

    @property
    def max_ciphertext_bytes(self) -> int:
        """The largest sealed payload that fits in a body (base64 inflates by 4/3)."""
        return (self.max_body_bytes - 4096) * 3 // 4

    @property
    def max_plaintext_bytes(self) -> int:
        """The largest report (document plus attachments) a client should seal."""
        from lianxin.protocol.padding import bucket

        # Largest L whose bucket still fits after the seal overhead.
        limit = self.max_ciphertext_bytes - 48
        low, high = 0, limit
        while low < high:
            mid = (low + high + 1) // 2
            if bucket(mid + 4) <= limit:
                low = mid
            else:
                high = mid - 1
        return low

    @classmethod
    def names(cls) -> list[str]:
        """Every setting's name."""
        return [f.name for f in fields(cls)]
