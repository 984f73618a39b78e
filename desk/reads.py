"""The read log: every read of report content, notes or attachments is a signed ``read``
event; ``desk reads`` lists them for the auditor (审计)."""

from __future__ import annotations

import json
from typing import Any

from .cases import find_case_id
from .context import Desk
from .roles import desk_action


@desk_action("reads")
def list_reads(
    desk: Desk, case: int | str | None = None, officer: str | None = None
) -> list[dict[str, Any]]:
    """Who read which case's what, and when (UTC), oldest first."""
    where: list[str] = ["type = 'read'"]
    params: list[int | str] = []
    if case is not None:
        where.append("case_id = ?")
        params.append(find_case_id(desk.db, case, "--case"))
    if officer:
        where.append("actor = ?")
        params.append(officer)
    sql = "SELECT seq, case_id, time, at, actor, data FROM events WHERE " + " AND ".join(where)  # noqa: S608 - fixed clauses
    rows = desk.db.execute(sql + " ORDER BY seq", params).fetchall()
    out = []
    for seq, case_id, time, at, actor, data in rows:
        doc = json.loads(data)
        what = doc.pop("what", "")
        detail = ", ".join(f"{k}={v}" for k, v in sorted(doc.items()))
        out.append(
            {"seq": seq, "time": time, "date": at, "officer": actor, "case": case_id,
             "what": what, "detail": detail}
        )  # fmt: skip
    return out
