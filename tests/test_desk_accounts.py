"""Officers, roles, keys and the signed register (issue 10): the role x action matrix, scope
enforced by keys (checked by opening the database directly), tampering, the loop by the right
roles with its read log."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox
from nacl.secret import SecretBox

from desk.answers import close, conclude, open_review, satisfaction, second_answer
from desk.context import Desk
from desk.deadlines import Manual
from desk.listing import show_case
from desk.notes import add_note
from desk.officers import UnlockedOfficer
from desk.reads import list_events, list_reads
from desk.refusals import BadValue, Refused
from desk.register import Registration, register
from desk.registry import disable_officer
from desk.roles import ROLEBOOK
from desk.routing import Route, route
from desk.scope import recuse, seal_envelopes
from desk.verify import verify_register
from desk.verify_parallel import verify_desk
from lianxin.domain.workdays import FixedClock
from lianxin.secrets import OfficeSecretKey
from lianxin.store.events import event_hash_v2
from tests.desk_support import (
    ROOT,
    TEST_OFFICERS,
    intake_letter,
    make_desk,
    new_store,
    office_keys,
)
from tests.desk_support import unlocked as key_of

DAY = date(2026, 3, 2)
# The last release before staff accounts: the migration test builds a store with its code.
PREVIOUS_RELEASE = "d36ca4c58765236d5130f286de473927fbf9bb2f"
FORM = Registration(
    "accusation", "legal.embezzlement_bribery", "township_section", "town.dongshan", "anonymous"
)
DAYS = Manual.parse(30, "working")
ROLE_OF = {
    "admin": "administrator",
    "reg": "registrar",
    "appr": "approver",
    "hand1": "handler",
    "sup": "supervisor",
    "aud": "auditor",
    "ana": "analyst",
}


def as_(desk: Desk, officer_id: str) -> Desk:
    desk.officer = key_of(officer_id)
    return desk


@pytest.fixture
def office(tmp_path: Path, keys_dir: Path) -> tuple[Path, int]:
    """A test office with one case registered and assigned to town.dongshan (hand1's unit)."""
    db = new_store(tmp_path / "office.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg")
    keys = office_keys(keys_dir)
    case_id = intake_letter(desk, keys, "MARKER-甲").case_id
    register(desk, case_id, FORM, keys)
    route(as_(desk, "appr"), case_id, Route("assign", unit="town.dongshan", manual=DAYS))
    desk.close()
    return db, case_id


# --- role x action --------------------------------------------------------------------------
MATRIX = {
    # action: the test roles allowed (a handler only on their unit's case)
    "officers": {"admin"},
    "intake": {"reg"},
    "inbox": {"reg"},
    "register": {"reg"},
    "route": {"appr"},
    "not-accepted": {"appr"},
    "extend": {"appr"},
    "recuse": {"appr"},
    "note": {"reg", "appr", "hand1"},
    "conclude": {"appr", "hand1"},
    "answer": {"appr"},
    "message": {"reg", "appr"},
    "close": {"reg", "appr"},
    "show": {"reg", "appr", "hand1"},
    "warnings": {"sup"},
    "reads": {"aud"},
    "events": {"aud", "admin"},
    "session": {*ROLE_OF, "hand2"},
    "verify": {"aud", "admin"},
    "analysis": {"appr", "sup", "ana"},
}


@pytest.mark.parametrize("action", sorted(MATRIX))
def test_role_by_action_matrix(office: tuple[Path, int], action: str) -> None:
    db, case_id = office
    desk = make_desk(db, DAY)
    try:
        for oid in (*ROLE_OF, "hand2"):
            as_(desk, oid)
            allowed = oid in MATRIX[action]
            if allowed:
                desk.authorize(action, case_id)
                continue
            with pytest.raises(Refused) as caught:
                desk.authorize(action, case_id)
            message = str(caught.value)
            entry = ROLEBOOK.action(action)
            if oid == "hand2" and "handler" in entry.roles:
                assert "is not assigned to your unit town.xihe" in message, message
            else:
                assert f"needs the role {ROLEBOOK.needed(entry)}" in message, message
                assert message.startswith("--officer: ")
    finally:
        desk.close()


def test_steps_refuse_the_wrong_role_before_changing_anything(
    office: tuple[Path, int], keys_dir: Path
) -> None:
    db, case_id = office
    before = list(sqlite3.connect(db).iterdump())
    desk = make_desk(db, DAY, officer="reg")
    keys = office_keys(keys_dir)
    with pytest.raises(Refused, match="route .分流. needs the role approver 审批; officer reg"):
        route(desk, case_id, Route("assign", unit="town.xihe", manual=DAYS))
    with pytest.raises(Refused, match="answer the reporter .答复. needs the role approver"):
        conclude(as_(desk, "hand1"), case_id, keys, "substantiated", answer="已查实。")
    with pytest.raises(Refused, match="register .登记. needs the role registrar 受理"):
        register(as_(desk, "sup"), case_id, FORM)
    with pytest.raises(Refused, match="not assigned to your unit town.xihe"):
        add_note(as_(desk, "hand2"), case_id, keys, text="越权")
    desk.close()
    assert list(sqlite3.connect(db).iterdump()) == before


# --- scope by keys --------------------------------------------------------------------------
MARKER = "MARKER-甲".encode()


def can_open(
    db: Path, officer: UnlockedOfficer, case_id: int, office: tuple[OfficeSecretKey, ...] = ()
) -> bool:
    """Whether anything stored in the database opens the case's report for ``officer``, no
    desk code involved: the officer's X25519 key, every office key it unwraps and the
    ``office`` keys given are tried on every key wrap of the case; each key so found on every
    case-key copy and note; and the office keys on every original envelope and note."""
    conn = sqlite3.connect(db)
    box = SealedBox(officer._box)
    offices = [SealedBox(k._key) for k in office]
    for (sealed,) in conn.execute("SELECT sealed FROM office_key_wraps"):
        try:
            offices.append(SealedBox(PrivateKey(box.decrypt(bytes(sealed)))))
        except CryptoError:
            pass
    openers = [box, *offices]
    case_keys = []
    for (sealed,) in conn.execute("SELECT sealed FROM case_keys WHERE case_id = ?", [case_id]):
        for opener in openers:
            try:
                case_keys.append(opener.decrypt(bytes(sealed)))
            except CryptoError:
                pass
    stored = [
        bytes(row[0])
        for row in conn.execute(
            "SELECT sealed FROM case_content WHERE case_id = ? UNION ALL"
            " SELECT sealed FROM notes WHERE case_id = ? UNION ALL"
            " SELECT ciphertext FROM submissions WHERE case_id = ?",
            [case_id, case_id, case_id],
        )
    ]
    conn.close()
    found = []
    for blob in stored:
        for key in case_keys:
            try:
                found.append(SecretBox(key).decrypt(blob))
            except CryptoError:
                pass
        for opener in offices:
            try:
                found.append(opener.decrypt(blob))
            except CryptoError:
                pass
    return any(MARKER in plain for plain in found)


def test_scope_is_enforced_by_keys(office: tuple[Path, int], keys_dir: Path) -> None:
    db, case_id = office
    the_office_key = tuple(office_keys(keys_dir).secrets.values())
    assert can_open(db, key_of("hand1"), case_id)  # assigned unit's handler
    assert can_open(db, key_of("appr"), case_id) and can_open(db, key_of("reg"), case_id)
    for outsider in ("hand2", "sup", "aud", "ana", "admin"):
        assert not can_open(db, key_of(outsider), case_id), outsider
    # registered: the original envelope (sealed to the office key) is no longer stored
    assert not can_open(db, key_of("admin"), case_id, the_office_key)
    desk = make_desk(db, DAY, officer="appr")
    recuse(as_(desk, "wang"), case_id, "appr", "被反映人系其近亲属")
    assert not can_open(db, key_of("appr"), case_id)
    # a recused registrar holds the office key: it opens neither the case nor its envelope
    recuse(as_(desk, "wang"), case_id, "reg", "本人与被反映人系同学")
    assert not can_open(db, key_of("reg"), case_id)
    assert not can_open(db, key_of("reg"), case_id, the_office_key)
    assert can_open(db, key_of("wang"), case_id)  # a registrar in scope still reads it
    disable_officer(as_(desk, "admin"), "hand1")
    assert not can_open(db, key_of("hand1"), case_id)
    route(as_(desk, "wang"), case_id, Route("assign", unit="town.xihe", manual=DAYS))
    assert can_open(db, key_of("hand2"), case_id)  # newly assigned handler
    assert verify_register(desk.db).ok, verify_register(desk.db).problems
    # an envelope still in the inbox (not registered) is what the office key is for
    waiting = intake_letter(as_(desk, "wang"), office_keys(keys_dir), "MARKER-甲").case_id
    assert can_open(db, key_of("reg"), waiting)
    desk.close()


def test_an_envelope_is_removed_only_with_a_signed_record(office: tuple[Path, int]) -> None:
    """Registration removed the envelope; verify checks the case-key copy in its place."""
    db, case_id = office
    conn = sqlite3.connect(db)
    left = conn.execute(
        "SELECT length(ciphertext) FROM submissions WHERE case_id = ?", [case_id]
    ).fetchall()
    assert left == [(0,)]
    (sid,) = conn.execute("SELECT id FROM submissions WHERE case_id = ?", [case_id]).fetchone()
    conn.execute(
        "UPDATE case_content SET sealed = randomblob(length(sealed)) WHERE submission_id = ?", [sid]
    )
    conn.commit()
    seq = _seq(db, "registered")
    assert f"sealed: event {seq}, case 1: the case-key copy of submission {sid} was altered" in (
        _problems(db)
    )
    conn.execute("DELETE FROM case_content WHERE submission_id = ?", [sid])
    conn.commit()
    conn.close()
    assert f"sealed: event {seq}, case 1: the case-key copy of submission {sid} was deleted" in (
        _problems(db)
    )


# --- the loop by the right roles, and the read log ----------------------------------------
def test_loop_by_roles_and_read_log(office: tuple[Path, int], keys_dir: Path) -> None:
    db, case_id = office
    keys = office_keys(keys_dir)
    desk = make_desk(db, DAY, officer="hand1")
    add_note(desk, case_id, None, text="走访施工方，调取验收记录。")  # type: ignore[arg-type]
    shown = show_case(desk, case_id, keys)
    assert "MARKER-甲" in shown["content"][0]["text"]
    assert shown["notes"][0]["text"] == "走访施工方，调取验收记录。"
    desk.clock = FixedClock(DAY + timedelta(days=20))
    conclude(desk, case_id, keys, "substantiated")
    from desk.answers import answer

    answer(as_(desk, "appr"), case_id, keys, "经核查，反映问题属实，已立案审查。")
    satisfaction(as_(desk, "reg"), case_id, "not")
    open_review(
        as_(desk, "appr"),
        case_id,
        "second_answer",
        manual=Manual.parse(10, "working"),
        keys=keys,
        reason="再查",
    )
    second_answer(as_(desk, "appr"), case_id, keys, "补充核查后维持原结论。", "upheld")
    close(as_(desk, "reg"), case_id)
    metadata = show_case(as_(desk, "sup"), case_id, keys)
    assert "content" not in metadata and "notes" not in metadata  # supervisors: no report text
    reads = list_reads(as_(desk, "aud"), case_id)
    assert [(r["officer"], r["what"]) for r in reads] == [("hand1", "case")]
    later = DAY + timedelta(days=1)
    assert list_reads(as_(desk, "aud"), case_id, since=later) == []
    assert list_reads(as_(desk, "aud"), case_id, "hand1", until=DAY, limit=1) == reads
    with pytest.raises(BadValue, match="--since"):
        list_reads(as_(desk, "aud"), since=later, until=DAY)
    logged = list_events(as_(desk, "aud"), case_id)
    assert logged[0]["type"] == "closed" and logged[-1]["type"] == "received"
    assert all("MARKER" not in e["detail"] for e in logged)  # codes and hashes, no text
    assert [e["officer"] for e in list_events(desk, case_id, kind="assigned")] == ["appr"]
    assert [e["type"] for e in list_events(desk, officer="hand1", since=later)] == ["concluded"]
    assert len(list_events(as_(desk, "admin"), limit=2)) == 2
    with pytest.raises(BadValue, match="--limit"):
        list_events(desk, limit=0)
    with pytest.raises(Refused, match="the event log"):
        list_events(as_(desk, "sup"))
    assert verify_desk(as_(desk, "aud")).ok
    with pytest.raises(Refused, match="verify"):
        verify_desk(as_(desk, "hand1"))
    report = verify_register(desk.db)
    assert report.ok, report.problems
    actors = dict(
        desk.db.execute(
            "SELECT type, group_concat(DISTINCT actor) FROM events WHERE case_id = ? GROUP BY type",
            [case_id],
        ).fetchall()
    )
    assert actors["registered"] == "reg" and actors["assigned"] == "appr"
    assert actors["concluded"] == "hand1" and actors["closed"] == "reg"
    desk.close()


# --- tampering ------------------------------------------------------------------------------
def _rewrite(
    db: Path, signers: dict[str, UnlockedOfficer], edit: str, params: list[object]
) -> None:
    """An insider with write access and officers' keys: edit, then recompute every hash (and
    re-sign with the actor's key where one is given)."""
    conn = sqlite3.connect(db)
    conn.execute(edit, params)
    rows = conn.execute(
        "SELECT seq, case_id, at, time, actor, type, data, v, sig FROM events ORDER BY seq"
    ).fetchall()
    prev = bytes(32)
    for seq, case_id, at, moment, actor, kind, data, v, sig in rows:
        digest = (
            event_hash_v2(prev, seq, case_id, at, moment, actor, kind, data) if v == 2 else None
        )
        if digest is None:
            prev = conn.execute("SELECT hash FROM events WHERE seq = ?", [seq]).fetchone()[0]
            continue
        if sig is not None and actor in signers:
            sig = signers[actor].sign(digest)
        conn.execute(
            "UPDATE events SET prev_hash = ?, hash = ?, sig = ? WHERE seq = ?",
            [prev, digest, sig, seq],
        )
        prev = digest
    conn.commit()
    conn.close()


def _problems(db: Path) -> list[str]:
    desk = make_desk(db, DAY)
    try:
        return [str(p) for p in verify_register(desk.db).problems]
    finally:
        desk.close()


def _seq(db: Path, kind: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT seq FROM events WHERE type = ?", [kind]).fetchone()[0])
    finally:
        conn.close()


def test_an_edited_event_is_reported(office: tuple[Path, int]) -> None:
    db, _ = office
    seq = _seq(db, "assigned")
    conn = sqlite3.connect(db)
    conn.execute(
        "UPDATE events SET data = replace(data, 'town.dongshan', 'town.xihe') WHERE seq = ?", [seq]
    )
    conn.commit()
    conn.close()
    assert any(f"chain: event {seq}, case 1: content was changed" in p for p in _problems(db))


def test_an_event_signed_by_the_wrong_officer_is_reported(office: tuple[Path, int]) -> None:
    db, _ = office
    seq = _seq(db, "assigned")
    everyone = {oid: key_of(oid) for oid in TEST_OFFICERS}
    # the registrar re-signs the approver's routing with their own key, hashes recomputed
    _rewrite(db, {**everyone, "appr": key_of("reg")}, "SELECT 1", [])
    assert (
        f"signature: event {seq}, case 1: the signature is not appr's (forged or altered)"
        in _problems(db)
    )


def test_an_event_moved_to_an_officer_without_the_role_is_reported(
    office: tuple[Path, int],
) -> None:
    db, _ = office
    seq = _seq(db, "assigned")
    everyone = {oid: key_of(oid) for oid in TEST_OFFICERS}
    _rewrite(db, everyone, "UPDATE events SET actor = 'reg' WHERE seq = ?", [seq])
    problems = _problems(db)
    assert any(
        f"signature: event {seq}, case 1: assigned needs the role approver" in p for p in problems
    ), problems


def test_deleted_and_reordered_events_are_reported(office: tuple[Path, int]) -> None:
    db, _ = office
    seq = _seq(db, "registered")
    conn = sqlite3.connect(db)
    conn.execute("UPDATE events SET seq = -1 WHERE seq = ?", [seq])
    conn.execute("UPDATE events SET seq = ? WHERE seq = ?", [seq, seq + 1])
    conn.execute("UPDATE events SET seq = ? WHERE seq = -1", [seq + 1])
    conn.commit()
    assert any(f"chain: event {seq}" in p for p in _problems(db))
    conn.execute("DELETE FROM events WHERE seq = ?", [seq])
    conn.commit()
    conn.close()
    assert any(f"chain: event {seq}" in p and "missing" in p for p in _problems(db))


def test_a_backdated_event_is_refused_and_reported(
    office: tuple[Path, int], keys_dir: Path
) -> None:
    db, case_id = office
    desk = make_desk(db, DAY, officer="appr")
    desk.clock = FixedClock(DAY, time(9))  # earlier than the routing at noon
    with pytest.raises(Refused, match="cannot be dated before the event it follows"):
        conclude(desk, case_id, office_keys(keys_dir), "substantiated")
    desk.close()
    seq = _seq(db, "assigned")
    everyone = {oid: key_of(oid) for oid in TEST_OFFICERS}
    _rewrite(
        db,
        everyone,
        "UPDATE events SET time = '2026-02-01T04:00:00Z', at = '2026-02-01' WHERE seq = ?",
        [seq],
    )
    problems = _problems(db)
    assert any(
        f"event {seq}, case 1: dated 2026-02-01T04:00:00Z, before the event it follows" in p
        for p in problems
    ), problems


def test_a_whole_chain_rewrite_is_caught_by_the_signed_head(
    office: tuple[Path, int], keys_dir: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from desk.against import check_against
    from desk.cli import desk_group
    from lianxin.keys import export_published, load_publisher_signer
    from lianxin.store.db import connect
    from publisher.register_head import write_register_head
    from tests.desk_support import passphrase

    db, case_id = office
    site = tmp_path / "site"
    site.mkdir()
    export_published(keys_dir, site / "keys.json")
    store = connect(db)
    write_register_head(store, site, load_publisher_signer(keys_dir), DAY.isoformat())
    assert check_against(store, site) == []
    store.conn.close()
    head = json.loads((site / "register-head.json").read_text())["latest"]["seq"]
    seq = _seq(db, "assigned")
    everyone = {oid: key_of(oid) for oid in TEST_OFFICERS}
    # an insider rewrites where the case went, fixes the row, recomputes every hash and
    # re-signs with the officers' own keys: the chain alone checks out
    conn = sqlite3.connect(db)
    conn.execute("UPDATE cases SET unit = 'town.xihe' WHERE id = ?", [case_id])
    conn.commit()
    conn.close()
    _rewrite(
        db,
        everyone,
        "UPDATE events SET data = replace(data, 'town.dongshan', 'town.xihe') WHERE seq = ?",
        [seq],
    )
    assert _problems(db) == []
    store = connect(db)
    found = check_against(store, site)
    store.conn.close()
    assert found == [
        (
            head,
            f"the register was rewritten: event {head}'s hash differs from the head signed on"
            f" {DAY.isoformat()}",
        )
    ]
    env = {"LIANXIN_DB": str(db), "LIANXIN_OFFICER": "aud", "LIANXIN_PASSPHRASE": passphrase("aud")}
    result = CliRunner().invoke(desk_group, ["verify", "--against", str(site)], env=env)
    assert result.exit_code == 1
    assert f"head: event {head}, no case: the register was rewritten" in result.stdout


def test_a_store_made_by_the_current_release_migrates(tmp_path: Path, keys_dir: Path) -> None:
    """A store written by the release before staff accounts (its code taken from git history):
    its events stay as legacy events, the office created afterwards follows (and so covers)
    them, and they still verify."""
    import io
    import os
    import subprocess
    import sys
    import tarfile

    main = tmp_path / "release"
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", PREVIOUS_RELEASE],
        capture_output=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(main, filter="data")
    db = tmp_path / "old.sqlite"
    env = {**os.environ, "PYTHONPATH": str(main), "LIANXIN_DB": str(db)}
    env.update(LIANXIN_OFFICE_KEY=str(keys_dir), LIANXIN_OFFICER="老科员")

    def old(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "lianxin", "desk", *args],
            env=env, cwd=main, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    subprocess.run(
        [sys.executable, "-c", f"from lianxin.store.db import connect; connect({str(db)!r})"],
        env=env, cwd=main, check=True, timeout=60,
    )  # fmt: skip
    old("intake", "--channel", "letter", "--today", "2026-02-02", "--title", "旧案",
        "--text", "MARKER-甲 旧系统登记", "--reported-name", "某")  # fmt: skip
    old("register", "1", "--today", "2026-02-03", "--item-type", "accusation",
        "--problem-type", "legal.embezzlement_bribery", "--region", "county",
        "--real-name", "anonymous")  # fmt: skip
    legacy = sqlite3.connect(db).execute("SELECT count(*) FROM events").fetchone()[0]
    assert legacy >= 2
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="appr")  # migrates, creates the office
    report = verify_register(desk.db)
    assert report.ok, report.problems
    assert report.legacy == legacy and report.first_admin == "admin"
    created = desk.db.execute(
        "SELECT seq, data FROM events WHERE type = 'office-created'"
    ).fetchone()
    assert created[0] == legacy + 1
    assert json.loads(created[1])["legacy"]["seq"] == legacy
    route(desk, 1, Route("assign", unit="town.dongshan", manual=DAYS))  # a key made now
    from desk.casekeys import open_case_key

    assert open_case_key(desk.db, 1, key_of("hand1")) is not None
    assert open_case_key(desk.db, 1, key_of("hand2")) is None
    assert verify_register(desk.db).ok
    # its envelope, sealed to the office key, goes once a registrar seals the old cases
    the_office_key = tuple(office_keys(keys_dir).secrets.values())
    assert can_open(db, key_of("admin"), 1, the_office_key)
    assert seal_envelopes(as_(desk, "reg"), office_keys(keys_dir)) == (1, 1, [])
    assert not can_open(db, key_of("admin"), 1, the_office_key)
    assert can_open(db, key_of("hand1"), 1)
    assert verify_register(desk.db).ok, verify_register(desk.db).problems
    desk.db.execute("UPDATE events SET actor = '别人' WHERE seq = 1")
    assert "chain: event 1, case 1: content was changed" in str(
        verify_register(desk.db).problems[0]
    )
    desk.close()


def test_a_handler_lists_only_their_units_cases(office: tuple[Path, int]) -> None:
    from desk.listing import Filters, list_cases

    db, case_id = office
    desk = make_desk(db, DAY, officer="hand1")
    assert [r["id"] for r in list_cases(desk, Filters())] == [case_id]
    assert list_cases(as_(desk, "hand2"), Filters()) == []
    with pytest.raises(Refused, match="a handler lists only their unit's cases .town.xihe."):
        list_cases(desk, Filters(unit="town.dongshan"))
    assert [r["id"] for r in list_cases(as_(desk, "appr"), Filters())] == [case_id]
    desk.close()


def test_verify_since_the_last_signed_head(
    office: tuple[Path, int], keys_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desk.verify_parallel import check_parallel, check_since_head, verify_full
    from lianxin.keys import load_publisher_signer
    from lianxin.store.db import connect
    from lianxin.store.heads import sign_head

    db, case_id = office
    store = connect(db)
    head = sign_head(store, load_publisher_signer(keys_dir), DAY.isoformat())["seq"]
    store.conn.close()
    desk = make_desk(db, DAY, officer="hand1")
    add_note(desk, case_id, None, text="当日工作")  # type: ignore[arg-type]
    desk.close()
    since = check_since_head(db)
    assert (since.events, since.problems) == (1, [])
    assert check_parallel(db, 2).problems == []
    conn = sqlite3.connect(db)
    conn.execute("UPDATE events SET sig = ? WHERE seq = ?", [bytes(64), head + 1])
    conn.commit()
    conn.close()
    assert check_since_head(db).problems == [
        ("signature", case_id, head + 1, "the signature is not hand1's (forged or altered)")
    ]
    import desk.verify_parallel

    monkeypatch.setattr(desk.verify_parallel, "PARALLEL_FROM", 0)  # in two shares
    assert check_since_head(db, 2).problems == check_since_head(db, 1).problems
    assert len(check_parallel(db, 2).problems) == 1
    # the full verify on two processes finds what the one-process verify finds
    conn = sqlite3.connect(db)
    conn.execute("UPDATE cases SET unit = 'town.xihe' WHERE id = ?", [case_id])
    conn.commit()
    conn.close()
    store = connect(db, readonly=True)
    alone = verify_register(store)
    store.conn.close()
    both = verify_full(db, 2)
    assert [str(p) for p in both.problems] == [str(p) for p in alone.problems]
    assert len(both.problems) == 2 and (both.events, both.cases) == (alone.events, alone.cases)
