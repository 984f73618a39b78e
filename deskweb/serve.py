"""Running the web desk under uvicorn without access logs (they would record IP addresses)."""

from __future__ import annotations

import gc
from typing import Any

import uvicorn

from .app import create_app
from .desks import WebSettings

# Only uvicorn's start and stop messages and the desk's sign-in lines; never per-request lines.
LOG_CONFIG: dict[str, Any] = {
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


def server_config(settings: WebSettings, host: str, port: int) -> uvicorn.Config:
    """The uvicorn configuration (tests run it in a thread, the CLI in the foreground)."""
    return uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        access_log=False,
        log_config=LOG_CONFIG,
        server_header=False,
        proxy_headers=False,  # client addresses are neither used nor logged
        timeout_keep_alive=5,
        timeout_graceful_shutdown=5,
    )


# A page builds tens of thousands of short-lived objects (the monthly analysis: 200 KB of
# HTML); with the default threshold (700) the collector runs many times a page, each time
# walking what was loaded at start. Start-up objects are frozen out of its way and it runs
# less often (rendering the analysis page: 32 ms against 37 to 53 ms, medians of 15 on the busy
# shared build machine).
GC_THRESHOLD = (50_000, 20, 20)


def make_server(settings: WebSettings, host: str, port: int) -> uvicorn.Server:
    """The server; its ``run()`` serves until interrupted and wipes every session's keys on
    the way out."""
    server = uvicorn.Server(server_config(settings, host, port))
    gc.collect()
    gc.freeze()  # what start-up loaded (lists, policy, calendar, templates) stays
    gc.set_threshold(*GC_THRESHOLD)
    return server
