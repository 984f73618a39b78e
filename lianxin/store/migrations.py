"""Named schema migrations, each applied in one transaction and recorded.

Never edit a migration that has shipped: add a new one. ``tests/test_store.py`` applies them to a
database that already holds data.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

MIGRATIONS = Migrations("lianxin")


@MIGRATIONS(name="0001_intake")
def _intake(db: sqlite_utils.Database) -> None:
    # Cases: one row per matter, whatever its channel. No plaintext, no token, no address.
    db.execute(
        """
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            received_date TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'received'
        )
        """
    )
    # Sealed envelopes exactly as received (reports and follow-ups).
    db.execute(
        """
        CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            receipt_id BLOB NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('report', 'followup')),
            case_id INTEGER NOT NULL REFERENCES cases(id),
            key_id TEXT NOT NULL,
            author BLOB NOT NULL,
            ciphertext BLOB NOT NULL,
            sig BLOB NOT NULL,
            received_date TEXT NOT NULL,
            opened_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX submissions_case ON submissions(case_id)")
    # Public values derived from tracking tokens; the tokens themselves are never stored.
    db.execute(
        """
        CREATE TABLE tokens (
            lookup_id BLOB PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            reply_pk BLOB NOT NULL,
            followup_vk BLOB NOT NULL,
            issued_date TEXT NOT NULL
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX tokens_case ON tokens(case_id)")
    # Proof-of-work nonces already used, kept until their challenge expires.
    db.execute(
        "CREATE TABLE spent_challenges (nonce BLOB PRIMARY KEY, expires INTEGER NOT NULL)"
        " WITHOUT ROWID"
    )
    # The append-only, hash-chained case history.
    db.execute(
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            type TEXT NOT NULL,
            data TEXT NOT NULL,
            prev_hash BLOB NOT NULL,
            hash BLOB NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX events_case ON events(case_id, seq)")


@MIGRATIONS(name="0002_register")
def _register(db: sqlite_utils.Database) -> None:
    """The office register: what the desk records about each case (no plaintext).

    state: received | accepted | not_accepted | forwarded | in_progress | concluded | answered
           | reviewing | closed
    real_name: anonymous | claimed | verified;  source: own | assigned;  route: assign | forward
    | direct. Codes (item_type, problem_type, rank, region, unit, outcome) come from the
    versioned data files in lianxin/domain/data/. Dates are ISO days in the office's time zone.
    """
    columns: dict[str, type] = {
        "number": str,  # registration number, unique once registered
        "source": str,
        "item_type": str,
        "problem_type": str,  # first level code
        "problem_subtype": str,  # second level code
        "rank": str,
        "region": str,
        "real_name": str,
        "repeat_of": int,
        "escalated": int,
        "registered_date": str,
        "route": str,
        "unit": str,  # handling unit code (assign / direct)
        "forwarded_to": str,  # competent authority named when forwarding
        "accepted_date": str,
        "due_date": str,
        "due_uncertain": int,  # 1 when the deadline crosses a year without calendar data
        "extensions": int,
        "concluded_date": str,
        "outcome": str,
        "answer_due": str,
        "answered_date": str,
        "satisfaction": str,  # satisfied | basically | not
        "review_kind": str,  # second_answer | review | re_review
        "review_due": str,
        "review_outcome": str,
        "second_answer_date": str,
        "closed_date": str,
        "policy": str,
    }
    cases = db["cases"]
    for name, kind in columns.items():
        cases.add_column(name, kind)  # type: ignore[union-attr]
    db.execute("CREATE UNIQUE INDEX cases_number ON cases(number) WHERE number IS NOT NULL")
    db.execute("CREATE INDEX cases_state_due ON cases(state, due_date)")
    db.execute("CREATE INDEX cases_received ON cases(received_date)")
    db.execute("CREATE INDEX cases_unit ON cases(unit)")
    db.execute(
        "CREATE TABLE case_tags (case_id INTEGER NOT NULL REFERENCES cases(id), tag TEXT NOT NULL,"
        " cleared_date TEXT, PRIMARY KEY (case_id, tag)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX case_tags_tag ON case_tags(tag)")
    # Answers to reporters, sealed to each token's reply key (a case may have several tokens).
    db.execute(
        """
        CREATE TABLE answers (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            lookup_id BLOB NOT NULL REFERENCES tokens(lookup_id),
            kind TEXT NOT NULL CHECK (kind IN ('answer', 'second_answer', 'review')),
            sealed BLOB NOT NULL,
            created_date TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX answers_lookup ON answers(lookup_id)")
    # Investigation notes, sealed to the office key: no case content in clear.
    db.execute(
        """
        CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            key_id TEXT NOT NULL,
            sealed BLOB NOT NULL,
            created_at TEXT NOT NULL,
            officer TEXT NOT NULL
        )
        """
    )
    # Warnings (预警 / 督办) issued, for the monthly analysis.
    db.execute(
        """
        CREATE TABLE warnings (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            colour TEXT NOT NULL CHECK (colour IN ('red', 'yellow')),
            unit TEXT,
            issued_date TEXT NOT NULL
        )
        """
    )


@MIGRATIONS(name="0003_releases")
def _releases(db: sqlite_utils.Database) -> None:
    """Published statistics, computed once per month and table, then reused by every build."""
    db.execute(
        """
        CREATE TABLE releases (
            month TEXT NOT NULL,
            table_name TEXT NOT NULL,
            computed_date TEXT NOT NULL,
            params TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (month, table_name)
        ) WITHOUT ROWID
        """
    )


@MIGRATIONS(name="0004_log")
def _log(db: sqlite_utils.Database) -> None:
    """The public transparency log (``publisher/log.py``): its entries in order, the hashes of
    its complete 256-leaf (and larger) subtrees, and every checkpoint the publisher signed."""
    # receipt_id: the submission an entry commits to (NULL for register heads and padding);
    # kept here only, so that a token's status can name its entries. Never published.
    db.execute(
        "CREATE TABLE log_entries (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL,"
        " receipt_id BLOB UNIQUE)"
    )
    db.execute(
        "CREATE TABLE log_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL,"
        " hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID"
    )
    # submissions: the highest submissions.id in the log at that size (the next batch starts
    # after it); head_entry: the last register entry logged (not logged again while unchanged).
    db.execute(
        "CREATE TABLE log_checkpoints (size INTEGER PRIMARY KEY, published_date TEXT NOT NULL,"
        " note TEXT NOT NULL, submissions INTEGER NOT NULL, head_entry BLOB)"
    )
    # Append-only in the store too: entries and cached hashes never change; a checkpoint's note
    # may only gain cosignatures (publisher/log.py checks that its text stays the same).
    for table in ("log_entries", "log_nodes"):
        db.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table}"
            " BEGIN SELECT RAISE(ABORT, 'the public log is append-only'); END"
        )
    for table in ("log_entries", "log_nodes", "log_checkpoints"):
        db.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}"
            " BEGIN SELECT RAISE(ABORT, 'the public log is append-only'); END"
        )
    db.execute(
        "CREATE TRIGGER log_checkpoints_fixed BEFORE UPDATE OF size, published_date, submissions,"
        " head_entry ON log_checkpoints"
        " BEGIN SELECT RAISE(ABORT, 'a signed checkpoint cannot change'); END"
    )


@MIGRATIONS(name="0005_status_dummies")
def _status_dummies(db: sqlite_utils.Database) -> None:
    """The status shards' dummy rows, kept from build to build like real rows (the publisher's
    own records: random ids, sizes and sealed random bytes, nothing derived from a report)."""
    db.execute(
        """
        CREATE TABLE status_dummies (
            lookup_id BLOB PRIMARY KEY,
            issued_date TEXT NOT NULL,
            rank INTEGER NOT NULL,
            status_len INTEGER NOT NULL,
            answers BLOB NOT NULL
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE status_builds (
            id INTEGER PRIMARY KEY,
            built_date TEXT NOT NULL,
            real_rows INTEGER NOT NULL,
            dummy_rows INTEGER NOT NULL,
            shards INTEGER NOT NULL
        )
        """
    )


@MIGRATIONS(name="0006_accounts")
def _accounts(db: sqlite_utils.Database) -> None:
    """Officers, signed events, per-case keys and signed chain heads (issue 10).

    The events table is rebuilt so that office events (the officer registry) need no case, and
    gains ``time`` (UTC wall clock), ``v`` (hash version: 1 = legacy unsigned, 2 = current) and
    ``sig`` (the officer's signature). Every event already present is kept as a legacy event.
    """
    db.execute(
        """
        CREATE TABLE events_v2 (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            case_id INTEGER REFERENCES cases(id),
            at TEXT NOT NULL,
            time TEXT,
            actor TEXT NOT NULL,
            type TEXT NOT NULL,
            data TEXT NOT NULL,
            prev_hash BLOB NOT NULL,
            hash BLOB NOT NULL,
            v INTEGER NOT NULL DEFAULT 2,
            sig BLOB
        )
        """
    )
    db.execute(
        "INSERT INTO events_v2 (seq, case_id, at, time, actor, type, data, prev_hash, hash, v)"
        " SELECT seq, case_id, at, NULL, actor, type, data, prev_hash, hash, 1 FROM events"
    )
    last = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
    db.execute("DROP TABLE events")
    db.execute("ALTER TABLE events_v2 RENAME TO events")
    if last:  # keep the high-water mark so a deleted tail is still noticed
        db.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'events'", [last[0]])
    db.execute("CREATE INDEX events_case ON events(case_id, seq)")
    db.execute("CREATE INDEX events_type ON events(type, seq)")
    # Office settings: kind (production | demo | test), time zone, first administrator.
    db.execute("CREATE TABLE office (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
    # Officers: public keys in clear, private keys only under a passphrase-derived key.
    db.execute(
        """
        CREATE TABLE officers (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            roles TEXT NOT NULL,
            sign_pk BLOB NOT NULL,
            box_pk BLOB NOT NULL,
            salt BLOB NOT NULL,
            opslimit INTEGER NOT NULL,
            memlimit INTEGER NOT NULL,
            wrapped BLOB NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID
        """
    )
    # The office private keys, each sealed to a registrar's X25519 key.
    db.execute(
        "CREATE TABLE office_key_wraps (key_id TEXT NOT NULL, officer TEXT NOT NULL"
        " REFERENCES officers(id), sealed BLOB NOT NULL, PRIMARY KEY (key_id, officer))"
        " WITHOUT ROWID"
    )
    # Per-case keys sealed to each officer in scope, and to the office key ('office:KEYID').
    db.execute(
        "CREATE TABLE case_keys (case_id INTEGER NOT NULL REFERENCES cases(id), holder TEXT"
        " NOT NULL, sealed BLOB NOT NULL, PRIMARY KEY (case_id, holder)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX case_keys_holder ON case_keys(holder)")
    # Report content re-encrypted under its case key at registration.
    db.execute(
        "CREATE TABLE case_content (submission_id INTEGER PRIMARY KEY REFERENCES"
        " submissions(id), case_id INTEGER NOT NULL REFERENCES cases(id), sealed BLOB NOT NULL)"
    )
    db.execute("CREATE INDEX case_content_case ON case_content(case_id)")
    # Recusals (回避): officers who must not hold a case's key.
    db.execute(
        "CREATE TABLE recusals (case_id INTEGER NOT NULL REFERENCES cases(id), officer TEXT"
        " NOT NULL, PRIMARY KEY (case_id, officer)) WITHOUT ROWID"
    )
    # Notes sealed under the case key ('case') or, before registration, the office key.
    db["notes"].add_column("sealed_with", str, not_null_default="office")  # type: ignore[union-attr]
    # Signed chain heads, one per publish: what `desk verify --against` compares.
    db.execute(
        """
        CREATE TABLE chain_heads (
            seq INTEGER PRIMARY KEY,
            hash BLOB NOT NULL,
            signed_at TEXT NOT NULL,
            key_id TEXT NOT NULL,
            sig BLOB NOT NULL
        )
        """
    )


@MIGRATIONS(name="0007_reporter_items")
def _reporter_items(db: sqlite_utils.Database) -> None:
    """Items sealed to a token's reply key, other than the office's answers, that the publisher
    adds to the token's status row (protocol §13.2): for now the records of what the reporter
    sent (``kind`` report, material or satisfaction; ``lianxin/sent/v1``). Like ``answers``,
    sealed once and published unchanged; nothing in clear but the kind and the date."""
    db.execute(
        """
        CREATE TABLE reporter_items (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            lookup_id BLOB NOT NULL REFERENCES tokens(lookup_id),
            kind TEXT NOT NULL,
            sealed BLOB NOT NULL,
            created_date TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX reporter_items_lookup ON reporter_items(lookup_id, id)")


@MIGRATIONS(name="0008_case_indexes")
def _case_indexes(db: sqlite_utils.Database) -> None:
    """Notes, answers and records of what a reporter sent, by case: ``desk verify`` checks a
    range of cases at a time (and on several cores), and opening one case reads its notes
    without scanning them all."""
    db.execute("CREATE INDEX notes_case ON notes(case_id)")
    db.execute("CREATE INDEX answers_case ON answers(case_id)")
    db.execute("CREATE INDEX reporter_items_case ON reporter_items(case_id)")


@MIGRATIONS(name="0009_loop")
def _loop(db: sqlite_utils.Database) -> None:
    """The office loop's steps (issue 11): screening and approval, signing for, the unit's
    completion report and its check, and supervision actions.

    phase: the loop step within a state (NULL when the state says it all):
      received/accepted: screened (a proposal awaits approval) | approved | returned;
      in_progress: assigned (awaits signing for) | signed | reported (awaits the check) |
      rework (the report was returned).
    """
    cases = db["cases"]
    cases.add_column("phase", str)  # type: ignore[union-attr]
    cases.add_column("proposal", str)  # type: ignore[union-attr]  # assign | forward | ...
    cases.add_column("sign_due", str)  # type: ignore[union-attr]
    cases.add_column("signed_date", str)  # type: ignore[union-attr]
    cases.add_column("report_date", str)  # type: ignore[union-attr]
    cases.add_column("report_returns", int)  # type: ignore[union-attr]
    # The acceptance notice to a real-name reporter (受理告知) and a 谈话函询 letter's reply.
    cases.add_column("acknowledged_date", str)  # type: ignore[union-attr]
    cases.add_column("inquiry_delivered", str)  # type: ignore[union-attr]
    cases.add_column("inquiry_replied", str)  # type: ignore[union-attr]
    db.execute("CREATE INDEX cases_phase ON cases(phase) WHERE phase IS NOT NULL")
    # The duties the warnings chase, kept small: notices owed, inquiry letters unanswered.
    db.execute(
        "CREATE INDEX cases_notice_owed ON cases(policy, received_date) WHERE real_name ="
        " 'verified' AND acknowledged_date IS NULL AND repeat_of IS NULL AND state IN"
        " ('received', 'accepted', 'forwarded', 'in_progress')"
    )
    db.execute(
        "CREATE INDEX cases_inquiry_open ON cases(policy, inquiry_delivered) WHERE"
        " inquiry_delivered IS NOT NULL AND inquiry_replied IS NULL"
    )
    # Supervision actions (电话督办, 实地督办, 督办函), counted in the monthly analysis.
    db.execute(
        """
        CREATE TABLE supervision_actions (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            kind TEXT NOT NULL CHECK (kind IN ('phone', 'visit', 'letter')),
            unit TEXT,
            acted_date TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX supervision_actions_date ON supervision_actions(acted_date)")


@MIGRATIONS(name="0010_offices")
def _offices(db: sqlite_utils.Database) -> None:
    """Linked offices (issue 15): the directory of the parent and child offices, the packages
    exchanged with them, which cases are linked to another office's case, and the office
    signing key sealed to the officers who send packages.

    offices.relation: parent | child; the card's exact bytes and signature as pinned, and the
    three fingerprints it is pinned by; pending_*: a refreshed card whose keys changed, kept
    until an officer confirms it. packages.direction: in | out; ``seq`` is the sender's
    sequence number towards this receiver (unique, so a replay is refused). case_links.role:
    upper (this office assigned the case down) | lower (assigned to this office from above).
    """
    db.execute(
        """
        CREATE TABLE offices (
            office_id TEXT PRIMARY KEY,
            relation TEXT NOT NULL CHECK (relation IN ('parent', 'child')),
            name TEXT NOT NULL,
            card BLOB NOT NULL,
            card_sig TEXT NOT NULL,
            office_fp TEXT NOT NULL,
            signing_fp TEXT NOT NULL,
            publisher_fp TEXT NOT NULL,
            pending_card BLOB,
            pending_sig TEXT,
            added_date TEXT NOT NULL,
            refreshed_date TEXT
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE packages (
            id INTEGER PRIMARY KEY,
            direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
            office_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            case_id INTEGER REFERENCES cases(id),
            body BLOB NOT NULL,
            digest TEXT NOT NULL,
            created_date TEXT NOT NULL,
            done_date TEXT,
            UNIQUE (direction, office_id, seq)
        )
        """
    )
    db.execute("CREATE INDEX packages_pending ON packages(direction, done_date)")
    db.execute(
        """
        CREATE TABLE case_links (
            case_id INTEGER PRIMARY KEY REFERENCES cases(id),
            office_id TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('upper', 'lower')),
            link TEXT NOT NULL,
            due_date TEXT,
            remote_phase TEXT,
            remote_date TEXT,
            UNIQUE (office_id, link)
        )
        """
    )
    db.execute(
        "CREATE TABLE office_signer_wraps (key_id TEXT NOT NULL, officer TEXT NOT NULL"
        " REFERENCES officers(id), sealed BLOB NOT NULL, PRIMARY KEY (key_id, officer))"
        " WITHOUT ROWID"
    )


@MIGRATIONS(name="0011_forwarding")
def _forwarding(db: sqlite_utils.Database) -> None:
    """A case forwarded to an authority outside Lianxin (转办) is followed until it replies:
    the day the forwarding letter (转办函) was first issued, the authority's reply deadline and
    the day its reply arrived. Cases forwarded before this migration have none of these (their
    handling deadline is still chased as before)."""
    cases = db["cases"]
    cases.add_column("forward_letter_date", str)  # type: ignore[union-attr]
    cases.add_column("forward_reply_due", str)  # type: ignore[union-attr]
    cases.add_column("forward_reply_date", str)  # type: ignore[union-attr]
    # The replies the warnings chase, kept small: forwarded, no reply recorded yet.
    db.execute(
        "CREATE INDEX cases_reply_owed ON cases(policy, forward_reply_due) WHERE"
        " forward_reply_due IS NOT NULL AND forward_reply_date IS NULL"
    )


# The group a case counts in for the per-unit warning counts (desk.warnings): its unit key, its
# state, its policy, its current deadline and, when the deadline is the intake one, its received
# date ('' for none: a UNIQUE key treats NULLs as distinct).
_COUNT_KEY = """
COALESCE({r}.unit, {r}.forwarded_to, '-'), {r}.state, COALESCE({r}.policy, ''),
COALESCE(CASE WHEN {r}.state IN ('accepted', 'in_progress', 'forwarded') THEN {r}.due_date
              WHEN {r}.state = 'concluded' THEN {r}.answer_due
              WHEN {r}.state = 'reviewing' THEN {r}.review_due END, ''),
COALESCE(CASE WHEN {r}.state = 'received' OR ({r}.state = 'accepted' AND {r}.due_date IS NULL)
              THEN {r}.received_date END, '')
"""
_COUNT_MATCH = (
    "unit_key = COALESCE({r}.unit, {r}.forwarded_to, '-') AND state = {r}.state"
    " AND policy = COALESCE({r}.policy, '')"
    " AND due = COALESCE(CASE WHEN {r}.state IN ('accepted', 'in_progress', 'forwarded')"
    " THEN {r}.due_date WHEN {r}.state = 'concluded' THEN {r}.answer_due"
    " WHEN {r}.state = 'reviewing' THEN {r}.review_due END, '')"
    " AND intake_from = COALESCE(CASE WHEN {r}.state = 'received' OR ({r}.state = 'accepted'"
    " AND {r}.due_date IS NULL) THEN {r}.received_date END, '')"
)
# Every table the monthly analysis reads (desk.analysis): a change to any of them moves the
# register's change counter, which keys the web desk's cached analyses.
_ANALYSED = ("cases", "case_tags", "warnings", "supervision_actions")


@MIGRATIONS(name="0012_counts")
def _counts(db: sqlite_utils.Database) -> None:
    """Per-unit warning counts kept up to date as cases change, and a register change counter.

    ``case_counts`` holds how many cases share each (unit key, state, policy, current deadline,
    intake date) group, kept by triggers on ``cases``: the warnings colour a few thousand groups
    instead of reading a million cases. ``register_changes`` counts every change to the tables
    the monthly analysis reads, so a cached analysis is known to be current.
    """
    db.execute(
        """
        CREATE TABLE case_counts (
            unit_key TEXT NOT NULL, state TEXT NOT NULL, policy TEXT NOT NULL,
            due TEXT NOT NULL, intake_from TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (unit_key, state, policy, due, intake_from)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        f"INSERT INTO case_counts SELECT {_COUNT_KEY.format(r='cases')}, count(*)"  # noqa: S608
        " FROM cases GROUP BY 1, 2, 3, 4, 5"
    )
    new_key, old_match = _COUNT_KEY.format(r="NEW"), _COUNT_MATCH.format(r="OLD")
    add = f"INSERT INTO case_counts VALUES ({new_key}, 1)"  # noqa: S608 - fixed text
    add += " ON CONFLICT DO UPDATE SET n = n + 1;"
    remove = f"UPDATE case_counts SET n = n - 1 WHERE {old_match};"  # noqa: S608 - fixed text
    remove += f" DELETE FROM case_counts WHERE n = 0 AND {old_match};"  # noqa: S608 - fixed text
    watched = "unit, forwarded_to, state, policy, due_date, answer_due, review_due, received_date"
    db.execute(f"CREATE TRIGGER case_counts_insert AFTER INSERT ON cases BEGIN {add} END")
    db.execute(f"CREATE TRIGGER case_counts_delete AFTER DELETE ON cases BEGIN {remove} END")
    db.execute(
        f"CREATE TRIGGER case_counts_update AFTER UPDATE OF {watched} ON cases"
        f" BEGIN {remove} {add} END"
    )
    db.execute(
        "CREATE TABLE register_changes (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)"
    )
    db.execute("INSERT INTO register_changes VALUES (1, 0)")
    bump = "UPDATE register_changes SET n = n + 1 WHERE id = 1;"
    for table in _ANALYSED:
        for what in ("INSERT", "UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER {table}_changes_{what.lower()} AFTER {what} ON {table}"
                f" BEGIN {bump} END"
            )


@MIGRATIONS(name="0013_timed_events")
def _timed_events(db: sqlite_utils.Database) -> None:
    """The latest timed event in one index step (``events.chain_head``, which every desk
    action calls): without it the query walked back over every untimed gateway event written
    since the last desk action. Partial, so the gateway's untimed events never touch it."""
    db.execute("CREATE INDEX events_timed ON events(seq) WHERE time IS NOT NULL")


@MIGRATIONS(name="0014_spent_by_expiry")
def _spent_by_expiry(db: sqlite_utils.Database) -> None:
    """Spent proof-of-work nonces keyed by (expiry, nonce) instead of the random nonce alone.

    Challenges are spent in about the order they were issued, so a batch's nonces now land in
    the last leaf of the key instead of a random leaf each (a commit writes about 20 pages fewer
    to the WAL), and forgetting expired nonces deletes a range instead of scanning the table.
    A replay is still refused: a challenge's expiry is under its MAC, so the same nonce always
    comes with the same expiry."""
    db.execute(
        "CREATE TABLE spent_by_expiry (expires INTEGER NOT NULL, nonce BLOB NOT NULL,"
        " PRIMARY KEY (expires, nonce)) WITHOUT ROWID"
    )
    db.execute("INSERT INTO spent_by_expiry SELECT expires, nonce FROM spent_challenges")
    db.execute("DROP TABLE spent_challenges")
    db.execute("ALTER TABLE spent_by_expiry RENAME TO spent_challenges")


@MIGRATIONS(name="0015_inserts_by_id")
def _inserts_by_id(db: sqlite_utils.Database) -> None:
    """A new case no longer moves the register's change counter: it moves the largest case id,
    which the web desk's caches read beside the counter (``deskweb.work.register_changes``).
    The trigger cost the gateway a statement per report in every batch; updates and deletions
    of cases, and every change to tags, warnings and supervision actions, still move it."""
    db.execute("DROP TRIGGER cases_changes_insert")
