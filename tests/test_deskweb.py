"""The web desk without a browser: ``lianxin desk serve`` as a child process (headers, cookies,
sign-in, logs), the session store and the sign-in throttle with a hand-moved clock."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, free_port
from desk_support import cli, new_store, passphrase, setup_office, unlocked

from desk.officers import UnlockedOfficer, new_officer
from desk.refusals import Refused
from deskweb.i18n import load_words
from deskweb.sessions import ManualClock, SessionStore, Throttle

DAY = date(2026, 11, 24)


def test_the_throttle_locks_at_the_fifth_failure_in_a_row() -> None:
    clock = ManualClock()
    throttle = Throttle(limit=5, lock_seconds=300, monotonic=clock)
    assert [throttle.failed("li") for _ in range(4)] == [1, 2, 3, 4]
    assert throttle.locked_for("li") == 0
    throttle.succeeded("li")  # a success starts the count again
    assert [throttle.failed("li") for _ in range(4)] == [1, 2, 3, 4]
    assert throttle.locked_for("wang") == 0 and throttle.failed("wang") == 1  # per account
    assert throttle.failed("li") == 5
    assert throttle.locked_for("li") == 300
    clock.advance(299)
    assert throttle.locked_for("li") == 1
    clock.advance(2)
    assert throttle.locked_for("li") == 0
    assert throttle.failed("li") == 1  # after the lock, five more


def test_the_throttle_forgets_the_oldest_account_beyond_its_capacity() -> None:
    throttle = Throttle(limit=2, capacity=3, monotonic=ManualClock())
    for name in ("a", "b", "c", "d"):
        throttle.failed(name)
    assert throttle.failed("a") == 1  # "a" was forgotten: its count starts again
    assert throttle.failed("d") == 2


def _fresh(officer_id: str) -> UnlockedOfficer:
    """Keys of their own (the shared test officers' keys must not be wiped here)."""
    record = unlocked(officer_id).record
    return new_officer(officer_id, record.name, record.unit, record.roles, "x" * 12).unlocked


def test_sessions_wipe_keys_on_sign_out_idleness_and_shutdown() -> None:
    clock = ManualClock()
    store = SessionStore(idle_seconds=60, monotonic=clock)
    t1, s1 = store.create(_fresh("hand1"))
    t2, s2 = store.create(_fresh("hand2"))
    _, s3 = store.create(_fresh("appr"))
    assert t1 not in repr(store._sessions)  # kept by digest, not by token
    clock.advance(50)
    assert store.get(t1) == (s1, False)  # activity restarts t1's idle clock
    clock.advance(20)
    assert store.get(t2) == (None, True)  # idle 70 s: wiped, and the page can say why
    assert s2.officer.forgotten and not s1.officer.forgotten
    assert store.get(t2) == (None, False)
    assert store.end(t1) and s1.officer.forgotten and store.get(t1) == (None, False)
    assert store.clear() == 0 and s3.officer.forgotten  # t3 idled out with t2
    with pytest.raises(Exception, match="sign in again"):
        s1.officer.open(b"x")


def test_every_word_of_the_pages_has_both_languages(tmp_path: Path) -> None:
    assert load_words()
    bad = tmp_path / "ui.yaml"
    bad.write_text("app: {zh: 工作台}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="app has no en text"):
        load_words(bad)


@pytest.fixture
def office_db(tmp_path: Path) -> Path:
    db = new_store(tmp_path / "lianxin.sqlite")
    setup_office(db, DAY, officers=("admin", "reg", "hand1"))
    return db


def _serve(db: Path, log: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    args = [sys.executable, "-m", "lianxin_cli", "desk", "serve", "--db", str(db)]
    args += ["--port", str(port), "--today", DAY.isoformat(), *extra]
    with log.open("ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text())
        try:
            httpx.get(url + "/login", timeout=1)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the web desk did not start in 60 s")


@pytest.fixture
def served(office_db: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    log = tmp_path / "serve.log"
    process, url = _serve(office_db, log)
    try:
        yield process, url, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _sign_in(client: httpx.Client, url: str, officer: str, phrase: str) -> httpx.Response:
    page = client.get(url + "/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    return client.post(
        url + "/login", data={"csrf": csrf[1], "officer": officer, "passphrase": phrase}
    )


def test_serve_signs_in_with_strict_cookies_and_logs_no_address_or_token(
    served: tuple[subprocess.Popen[bytes], str, Path],
) -> None:
    process, url, log = served
    with httpx.Client() as client:
        page = client.get(url + "/login")
        assert page.status_code == 200 and "登录" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        assert "unsafe-inline" not in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        login_cookie = page.headers["set-cookie"].lower()
        assert "httponly" in login_cookie and "samesite=strict" in login_cookie
        assert "secure" not in login_cookie
        no_token = client.post(url + "/login", data={"officer": "reg", "passphrase": "x" * 12})
        assert no_token.status_code == 403  # no CSRF token: refused before any passphrase
        signed = _sign_in(client, url, "hand1", passphrase("hand1"))
        assert signed.status_code == 303 and signed.headers["location"] == "/work"
        cookie = signed.headers["set-cookie"]
        token = client.cookies.get("lx_session")
        assert token and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
        work = client.get(url + "/work")
        assert work.status_code == 200 and "我的工作" in work.text
        assert "English" in work.text and "town.dongshan" not in work.text.replace(
            'data-unit="town.dongshan"', ""
        )
        assert client.get(url + "/work?lang=en").text.count("My work") >= 1
        assert client.get(url + "/static/desk.css").status_code == 200
        assert client.get(url + "/no-such-page").status_code == 404
        assert client.get(url + "/case/not-a-case").status_code == 404
        assert client.get(url + "/case/999").status_code == 404
        odd = client.get(url + "//example.org/x")  # the language link stays on this site
        assert 'href="?lang=' in odd.text and "//example.org" not in odd.text
        wrong = _sign_in(httpx.Client(), url, "reg", "not the passphrase")
        assert wrong.status_code == 401
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises it when done
    text = log.read_text()
    assert "web desk stopping: 1 signed-in officers' keys wiped" in text
    assert "officer hand1 signed in" in text and "sign-in failed for officer id reg" in text
    assert token not in text
    assert passphrase("hand1") not in text and "not the passphrase" not in text
    assert not re.search(r"127\.0\.0\.1:\d+ - ", text)  # no access-log lines
    assert "GET /" not in text and "POST /" not in text


def test_secure_cookies_behind_https(office_db: Path, tmp_path: Path) -> None:
    process, url = _serve(office_db, tmp_path / "serve.log", "--secure-cookies")
    try:
        page = httpx.get(url + "/login")
        assert "secure" in page.headers["set-cookie"].lower()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_serve_refuses_bad_settings_in_one_line(tmp_path: Path, office_db: Path) -> None:
    missing = cli("serve", "--db", str(tmp_path / "none.sqlite"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"Error: --db: no database at {tmp_path / 'none.sqlite'}"
    idle = cli("serve", "--db", str(office_db), "--idle-minutes", "0")
    assert idle.returncode == 2
    assert idle.stderr.strip() == "Error: --idle-minutes: give a positive number of minutes"
    lan = cli("serve", "--db", str(office_db), "--host", "0.0.0.0")
    assert lan.returncode == 2 and lan.stderr.startswith("Error: --host: 0.0.0.0 is reachable")
    port = cli("serve", "--db", str(office_db), "--port", "70000")
    assert port.returncode == 2 and "--port" in port.stderr


def test_a_sign_in_the_register_cannot_record_opens_no_session(office_db: Path) -> None:
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from desk.signins import record_sign_in
    from deskweb.app import create_app
    from deskweb.desks import WebSettings
    from tests.desk_support import make_desk

    later = make_desk(office_db, DAY + timedelta(days=1), officer="reg")
    record_sign_in(later, second_factor=False)  # the log's last event: the next day
    later.close()
    app = create_app(WebSettings(db=office_db, today=DAY))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        page = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        answer = client.post(
            "/login",
            data={"csrf": csrf[1], "officer": "hand1", "passphrase": passphrase("hand1")},
            follow_redirects=False,
        )
        assert answer.status_code == 503 and "未能记入登记簿" in answer.text
        assert "lx_session" not in answer.cookies and len(app.state.sessions) == 0
        assert client.get("/work", follow_redirects=False).status_code == 303


def _reads_waiting_together(factory: object, officers: list[UnlockedOfficer]) -> list[int]:
    """Each officer records a read while a write is under way, then the write ends; the
    positions of the reads that raised."""
    import threading

    from deskweb.desks import DeskFactory

    assert isinstance(factory, DeskFactory)
    log = factory.reads
    errors: list[int] = []

    def read(i: int) -> None:
        desk = factory.open(officers[i])
        try:
            desk.record_read(1 + i % 3, "case", notes=0)
        except Exception:
            errors.append(i)
        finally:
            desk.close()

    with log._lock:
        log._writing = True  # as if a write were under way: every read below waits for it
    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(officers))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(log._waiting) < len(officers) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(log._waiting) == len(officers)
    with log._lock:
        log._writing = False
        log._written.notify_all()
    for thread in threads:
        thread.join(timeout=10)
    return errors


def test_read_events_waiting_together_are_written_in_one_transaction(office_db: Path) -> None:
    """The web desk's group commit: reads that wait while another is being written go in one
    transaction; each is signed by its own officer; a read that cannot be signed fails alone."""
    from desk.synth import synthesize_register
    from deskweb.desks import DeskFactory, WebSettings
    from lianxin.store.events import verify_chain

    synthesize_register(office_db, 3, seed=1, start_month="2026-01", months=1)
    factory = DeskFactory(WebSettings(office_db, today=DAY))
    officers = [unlocked("reg"), unlocked("hand1"), unlocked("reg")]
    assert _reads_waiting_together(factory, officers) == []
    assert factory.reads.batches == 1  # three reads, one transaction
    gone = _fresh("hand1")
    gone.forget()  # keys wiped: its read cannot be signed
    assert _reads_waiting_together(factory, [unlocked("reg"), gone, unlocked("hand1")]) == [1]
    # the group was tried in one transaction, then (one read failing) each on its own
    assert factory.reads.batches == 1 + 2
    desk = factory.open(None)
    rows = desk.db.execute("SELECT actor, case_id FROM events WHERE type = 'read' ORDER BY seq")
    assert sorted(rows.fetchall()) == [
        ("hand1", 2), ("hand1", 3), ("reg", 1), ("reg", 1), ("reg", 3)
    ]  # fmt: skip
    assert verify_chain(desk.db) == []
    desk.close()
    factory.close()


def test_kept_figures_are_worked_out_again_after_any_change(office_db: Path) -> None:
    """The analysis and the unit counts are kept only while the register's change counter
    stays the same: a change made anywhere (here straight in the store) shows at once."""
    from desk.synth import synthesize_register
    from deskweb.analysis import ComparisonCache
    from deskweb.desks import DeskFactory, WebSettings

    synthesize_register(office_db, 40, seed=2, start_month="2026-01", months=2)
    factory = DeskFactory(WebSettings(office_db, today=date(2026, 2, 28)))
    setup_office(office_db, DAY, officers=("ana",))
    cache = ComparisonCache()
    desk = factory.open(unlocked("ana"))

    def received() -> int | float | None:
        table = cache.get(desk, "2026-02").tables[0]
        return next(line.values[0] for line in table.lines if line.code == "total")

    def units() -> int:
        return sum(u.red + u.yellow + u.green + u.blue for u in factory.counts.units(desk))

    first, counted = received(), units()
    assert cache.get(desk, "2026-02") is cache.get(desk, "2026-02")  # kept
    desk.db.execute("UPDATE cases SET received_date = '2026-02-27' WHERE received_date < '2026-02'")
    assert received() != first
    synthesize_register(office_db, 5, seed=3, start_month="2026-02", months=1)
    assert units() == counted + 5
    with pytest.raises(Refused):
        cache.get(factory.open(unlocked("hand1")), "2026-02")  # the desk's own check first
    desk.close()
    factory.close()
