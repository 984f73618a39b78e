"""Running the gateway under uvicorn without access logs (they would record IP addresses)."""

from __future__ import annotations

import uvicorn

from .app import create_front
from .collector import quiet_collector
from .connections import default_max_connections, guarded_protocol
from .settings import GatewaySettings

# Only uvicorn's own start/stop messages, never per-request lines.
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "lianxin": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def serve(settings: GatewaySettings, host: str, port: int) -> None:
    """Serve until interrupted."""
    app = create_front(settings)
    quiet_collector()
    max_connections = settings.max_connections or default_max_connections()
    uvicorn.run(
        app,
        http=guarded_protocol(settings.header_timeout_seconds, max_connections),
        timeout_keep_alive=5,  # idle keep-alive connections close after 5 s
        h11_max_incomplete_event_size=16 * 1024,  # request line and headers: 16 KiB at most
        host=host,
        port=port,
        access_log=False,
        log_config=LOG_CONFIG,
        server_header=False,
        proxy_headers=False,
        workers=1,
        timeout_graceful_shutdown=5,
    )
