"""Operator metrics in the Prometheus text format, served on a separate loopback port.

Only totals and distributions: how many submissions were accepted, how many were refused and
with which problem type, how long the intake worker's commits take, how many requests wait for
the worker, the proof-of-work difficulty, and whether the gateway can accept reports. Nothing
per request (no path beyond the route, no address, no token, no time of a single request).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable

from .problems import PROBLEM_BASE, PROBLEMS

log = logging.getLogger("lianxin.gateway")

# Commit latency buckets in seconds: a batch commits in about 2-20 ms on an SSD (fsync).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SUBMIT_PATHS = {"/v1/reports": "report", "/v1/followups": "followup"}
REQUEST_MAX = 8192
READ_SECONDS = 5.0


class Metrics:
    """Counters kept by the HTTP process; read by ``render``."""

    def __init__(self) -> None:
        self.accepted: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.commit_counts = [0] * (len(BUCKETS) + 1)
        self.commit_sum = 0.0
        self.commit_failures: Counter[str] = Counter()

    def observe_commit(self, seconds: float, error: str | None) -> None:
        """One batch commit of the intake worker (``error``: the SQLite error name if it failed)."""
        if error:
            self.commit_failures[error] += 1
            return
        index = next((i for i, bound in enumerate(BUCKETS) if seconds <= bound), len(BUCKETS))
        self.commit_counts[index] += 1
        self.commit_sum += seconds

    def count_answer(self, path: str, status: int, problem_body: bytes | None) -> None:
        """Count one answer: a problem (``problem_body``) by its type, an accepted submission
        (200 or 201 on a submission route) by its kind."""
        if problem_body is not None:
            self.refused[_slug(problem_body)] += 1
        elif status in (200, 201) and path in SUBMIT_PATHS:
            self.accepted[SUBMIT_PATHS[path]] += 1

    def render(self, gauges: dict[str, tuple[str, float]]) -> str:
        """The Prometheus text exposition; ``gauges``: name -> (help, value)."""
        lines: list[str] = []

        def family(name: str, kind: str, help_: str) -> None:
            lines.append(f"# HELP {name} {help_}")
            lines.append(f"# TYPE {name} {kind}")

        family("lianxin_gateway_accepted_total", "counter", "Submissions stored (201 or 200).")
        for kind in ("report", "followup"):
            lines.append(f'lianxin_gateway_accepted_total{{kind="{kind}"}} {self.accepted[kind]}')
        family("lianxin_gateway_refused_total", "counter", "Answers with a problem, by type.")
        for slug in sorted(set(PROBLEMS) | set(self.refused)):
            lines.append(f'lianxin_gateway_refused_total{{problem="{slug}"}} {self.refused[slug]}')
        family("lianxin_gateway_commit_seconds", "histogram", "Intake worker batch commit latency.")
        running = 0
        for bound, count in zip((*BUCKETS, float("inf")), self.commit_counts, strict=True):
            running += count
            le = "+Inf" if bound == float("inf") else f"{bound:g}"
            lines.append(f'lianxin_gateway_commit_seconds_bucket{{le="{le}"}} {running}')
        lines.append(f"lianxin_gateway_commit_seconds_sum {self.commit_sum:.6f}")
        lines.append(f"lianxin_gateway_commit_seconds_count {running}")
        family("lianxin_gateway_commit_failures_total", "counter", "Failed commits, by error.")
        for name, count in sorted(self.commit_failures.items()):
            lines.append(f'lianxin_gateway_commit_failures_total{{error="{name}"}} {count}')
        for name, (help_, value) in gauges.items():
            family(name, "gauge", help_)
            lines.append(f"{name} {value:g}")
        return "\n".join(lines) + "\n"


def _slug(body: bytes) -> str:
    try:
        kind = str(json.loads(body)["type"])
    except (ValueError, KeyError, TypeError):
        return "other"
    slug = kind.removeprefix(PROBLEM_BASE)
    return slug if slug in PROBLEMS else "other"


async def serve_metrics(port: int, render: Callable[[], str]) -> asyncio.Server:
    """Answer ``GET /metrics`` on 127.0.0.1:``port`` (loopback only: it is for the operator)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_SECONDS):
                line = await reader.readuntil(b"\r\n")
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
            method, target, *_ = line.decode("latin-1").split(" ")
            if method == "GET" and target.split("?")[0] == "/metrics":
                status, body = "200 OK", render().encode()
                media = "text/plain; version=0.0.4; charset=utf-8"
            else:
                status, body, media = "404 Not Found", b"GET /metrics\n", "text/plain"
            writer.write(
                f"HTTP/1.1 {status}\r\ncontent-type: {media}\r\ncontent-length: {len(body)}\r\n"
                "connection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (TimeoutError, ValueError, asyncio.IncompleteReadError, ConnectionError):
            pass
        except asyncio.LimitOverrunError:
            pass
        finally:
            writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", port, limit=REQUEST_MAX)
