"""Running the gateway under uvicorn without access logs (they would record IP addresses)."""

from __future__ import annotations

import uvicorn

from .app import create_app
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
    },
}


def serve(settings: GatewaySettings, host: str, port: int) -> None:
    """Serve until interrupted."""
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,
        log_config=LOG_CONFIG,
        server_header=False,
        proxy_headers=False,
        workers=1,
        timeout_graceful_shutdown=5,
    )
