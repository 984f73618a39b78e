"""The framework's ceiling: FastAPI that only validates the gateway's body shape and answers 201.

Same server stack as the gateway (uvicorn, one worker, no access log, same loop and HTTP
implementation), same request body, an answer of the same shape and size; no crypto, no
database. ``bench/gateway_bench.py`` starts it with ``python bench/bare_app.py --port N``.
"""

from __future__ import annotations

import argparse
import json
from typing import Annotated, Literal

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.responses import Response

B64URL = r"^[A-Za-z0-9_-]*$"
B64 = Annotated[str, StringConstraints(pattern=B64URL)]

# What the gateway answers, with placeholder values of the real lengths.
ANSWER = json.dumps(
    {
        "token": "0000-0000-0000-0000-0000-0000-0000",
        "receipt": {
            "v": 1,
            "receipt_id": "0" * 64,
            "kind": "report",
            "received": "2024-01-01",
            "key_id": "0" * 16,
            "gateway_key_id": "0" * 16,
            "sig": "A" * 86,
        },
        "duplicate": False,
    }
).encode()


class Envelope(BaseModel):
    """The report envelope's fields, as strictly as pydantic states them."""

    model_config = ConfigDict(extra="forbid", strict=True)

    v: Literal[1]
    kind: Literal["report"]
    key_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
    client_pk: Annotated[B64, StringConstraints(min_length=43, max_length=43)]
    ciphertext: Annotated[B64, StringConstraints(min_length=65, max_length=22_000_000)]
    sig: Annotated[B64, StringConstraints(min_length=86, max_length=86)]


class Proof(BaseModel):
    """A proof of work, signed by the envelope's key."""

    model_config = ConfigDict(extra="forbid", strict=True)

    challenge: Annotated[B64, StringConstraints(min_length=56, max_length=56)]
    answer: Annotated[int, Field(ge=0, lt=2**53)]
    sig: Annotated[B64, StringConstraints(min_length=86, max_length=86)]


class Submission(BaseModel):
    """The POST /v1/reports body."""

    model_config = ConfigDict(extra="forbid", strict=True)

    envelope: Envelope
    pow: Proof


app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.post("/v1/reports", status_code=201)
async def reports(body: Submission) -> Response:
    """Validate and answer; nothing else."""
    return Response(ANSWER, status_code=201, media_type="application/json")


@app.get("/v1/health")
async def health() -> Response:
    """Readiness probe for the bench."""
    return Response(b'{"status":"ok"}', media_type="application/json")


def main() -> None:
    """Serve on 127.0.0.1:PORT like the gateway does (one worker, no access log)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        access_log=False,
        log_level="warning",
        server_header=False,
        proxy_headers=False,
        workers=1,
    )


if __name__ == "__main__":
    main()
