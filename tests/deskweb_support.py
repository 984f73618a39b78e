"""Signing in to the web desk in process (FastAPI's TestClient) and reading a form's CSRF
token: what the HTTP tests of the web desk's pages share."""

from __future__ import annotations

import re

from desk_support import passphrase
from fastapi.testclient import TestClient

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF.search(page)
    assert found is not None
    return found[1]


def signed_in(client: TestClient, officer_id: str) -> None:
    """Sign ``officer_id`` in with the test passphrase (the sign-in redirects: 303)."""
    page = client.get("/login")
    answer = client.post(
        "/login",
        data={
            "csrf": csrf_of(page.text),
            "officer": officer_id,
            "passphrase": passphrase(officer_id),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
