"""The records of what a reporter sent (protocol §7.4) and their place in a status row (§13.2)."""

from __future__ import annotations

from lianxin.protocol.documents import MAX_EXCERPT, sent_record, validate_followup
from publisher.status import MAX_ITEMS, row_items


def _material(text: str, files: int = 0) -> dict[str, object]:
    doc = validate_followup({"schema": "lianxin/followup/v1", "type": "material", "text": text})
    return doc | {"attachments": [{"name": f"{i}.pdf", "type": "application/pdf", "size": 1}
                                  for i in range(files)]}  # fmt: skip


def test_a_material_is_titled_by_its_first_non_blank_line_cut_to_80_characters() -> None:
    record = sent_record(_material("\n  \n  第二次补充：收据  \n更多说明", files=2), "2026-11-30")
    assert record == {
        "kind": "material",
        "date": "2026-11-30",
        "title": "第二次补充：收据",
        "files": 2,
    }
    long = sent_record(_material("长" * 200), "2026-11-30")["title"]
    assert len(long) == MAX_EXCERPT == 80 and long == "长" * 79 + "…"
    exact = sent_record(_material("长" * 80), "2026-11-30")["title"]
    assert exact == "长" * 80
    assert sent_record(_material(""), "2026-11-30")["title"] == ""


def test_a_rating_and_a_report() -> None:
    rating = validate_followup(
        {"schema": "lianxin/followup/v1", "type": "satisfaction", "rating": "basically"}
    )
    assert sent_record(rating, "2026-12-01") == {
        "kind": "satisfaction", "date": "2026-12-01", "title": "", "files": 0, "rating": "basically"
    }  # fmt: skip
    report = {"schema": "lianxin/report/v1", "title": "工程款问题", "attachments": []}
    assert sent_record(report, "2026-11-02") == {
        "kind": "report", "date": "2026-11-02", "title": "工程款问题", "files": 0
    }  # fmt: skip


def test_a_row_keeps_every_answer_the_first_record_and_the_newest_within_255_items() -> None:
    answers = [b"a1", b"a2"]
    others = [f"s{i}".encode() for i in range(300)]
    items = row_items(answers, others)
    assert len(items) == MAX_ITEMS == 255
    assert items[:3] == [b"a1", b"a2", b"s0"]  # the answers, then the report's record
    assert items[3] == b"s48" and items[-1] == b"s299"  # then the newest 252
    assert row_items(answers, others[:10]) == answers + others[:10]  # all fit: unchanged


def test_an_item_needs_a_string_schema_but_not_a_known_one() -> None:
    import json
    import struct

    import pytest

    from lianxin.protocol import PayloadError
    from lianxin.protocol.payload import unpack

    def packed(doc: object) -> bytes:
        body = json.dumps(doc).encode()
        return struct.pack(">I", len(body)) + body

    later = packed({"schema": "lianxin/message/v9", "attachments": []})
    with pytest.raises(PayloadError):
        unpack(later)
    assert unpack(later, any_schema=True).schema == "lianxin/message/v9"
    for bad in ({"schema": 9, "attachments": []}, {"attachments": []}, [1]):
        with pytest.raises(PayloadError):
            unpack(packed(bad), any_schema=True)
