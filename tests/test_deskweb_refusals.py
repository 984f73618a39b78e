"""The web desk words the desk's refusals in Chinese (and English) from their stable codes.

Every refusal code the desk raises (``code="..."`` in desk/, the refusal classes, the
lifecycle's ``Why`` codes) has an entry in deskweb/data/refusals.yaml; refusals raised by real
desk calls on a real store read as sentences in each language, with the lists' names and no
CLI option or code in them. The CLI's English messages are unchanged.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from desk_support import intake_letter, make_desk, new_store, unlocked

from desk import refusals
from desk.approval import Proposal, approve, screen
from desk.lifecycle import STEPS, Why
from desk.officekeys import load_office_keys
from desk.refusals import Refused
from desk.register import Registration, not_accepted, register
from desk.routing import Route, extend, route
from deskweb.i18n import REFUSALS, Labels
from lianxin.keys import init_keys

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 24)
FORM = Registration(
    "accusation", "legal.embezzlement_bribery", "township_section", "town.dongshan", "verified"
)


def _desk_sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "desk").glob("*.py")))


def test_every_code_the_desk_raises_has_words_in_both_languages() -> None:
    source = _desk_sources()
    raised = set(re.findall(r"\bcode=\"([a-z_]+)\"", source))
    classes = {
        c.code for c in vars(refusals).values() if isinstance(c, type) and issubclass(c, Refused)
    }
    whys = set(re.findall(r"\bWhy\(\s*\"([a-z_]+)\"", source))
    assert {"role_needed", "empty", "not_your_unit"} <= raised  # the scan finds them
    assert {"not_registered", "awaits_approval", "in_state"} <= whys
    assert raised | classes <= set(REFUSALS.codes), raised | classes - set(REFUSALS.codes)
    assert whys <= set(REFUSALS.why), whys - set(REFUSALS.why)


def _refusal(call: object) -> Refused:
    with pytest.raises(Refused) as caught:
        call()  # type: ignore[operator]
    return caught.value


def test_refusals_of_real_steps_read_as_sentences(tmp_path: Path) -> None:
    init_keys(tmp_path / "keys")
    keys = load_office_keys(tmp_path / "keys")
    db = new_store(tmp_path / "lianxin.sqlite")
    desk = make_desk(db, DAY, officer="reg", keys_dir=tmp_path / "keys")
    try:
        case_id = intake_letter(desk, keys, "甲").case_id
        desk.officer = unlocked("appr")
        unregistered = _refusal(lambda: not_accepted(desk, case_id, keys, "不属于受理范围"))
        desk.officer = unlocked("reg")
        register(desk, case_id, FORM, keys)
        empty = _refusal(lambda: screen(desk, case_id, Proposal("assign", " ", unit="town.xihe")))
        no_unit = _refusal(lambda: screen(desk, case_id, Proposal("assign", "拟交办")))
        desk.officer = unlocked("hand1")
        role = _refusal(lambda: approve(desk, case_id))
        desk.officer = unlocked("appr")
        unscreened = _refusal(lambda: approve(desk, case_id))
        no_due = _refusal(lambda: extend(desk, case_id, keys, "需要补充调查"))
        both = Route("forward", to="external.natural_resources", to_name="县自然资源局")
        two = _refusal(lambda: route(desk, case_id, both))
    finally:
        desk.close()
    # the CLI's English message is what it was
    assert str(unscreened).startswith("cannot approve case 2026-000001")
    assert "Allowed next steps: " in str(unscreened) and "--officer" in str(role)
    zh, en = (Labels(lang, desk.taxonomy) for lang in ("zh", "en"))
    expected = {
        unregistered: ("尚未登记（请先登记）", "not registered yet"),
        empty: ("请填写「拟办意见」。", "Fill in “Opinion”."),
        role: ("「审批」须由审批岗位的人员办理，您没有这个角色。", "needs the approver role"),
        unscreened: ("须处于“已甄别待审批”", "it needs to be screened"),
        no_unit: ("请填写「承办单位」。", "Fill in “Unit”."),
        two: ("二者选一", "one of the two"),
        no_due: ("它的状态是“已受理”", "Case 2026-000001 cannot take the step “Extend”"),
    }
    for exc, (zh_part, en_part) in expected.items():
        said_zh, said_en = zh.refusal(exc), en.refusal(exc)
        assert zh_part in said_zh, said_zh
        assert en_part in said_en, said_en
        for said in (said_zh, said_en):
            assert "--" not in said and exc.code not in said and "{" not in said
    said = zh.refusal(unscreened)
    assert "此案件现在可以办理的步骤：" in said and "甄别" in said


def test_every_lifecycle_refusal_is_worded(tmp_path: Path) -> None:
    """Each Why a step's condition gives (and the state refusal) fills its template."""
    from desk.cases import Case

    init_keys(tmp_path / "keys")
    db = new_store(tmp_path / "lianxin.sqlite")
    desk = make_desk(db, DAY, officer="reg", keys_dir=tmp_path / "keys")
    desk.close()
    zh = Labels("zh", desk.taxonomy)
    fields = Case.__dataclass_fields__
    seen = set()
    for phase in (None, "screened", "approved", "returned", "assigned", "signed", "reported"):
        for satisfaction, review in ((None, None), ("not", None), ("not", "re_review")):
            for registered in (True, False):
                values = {name: None for name in fields}
                values.update(
                    id=1, state="accepted", phase=phase, satisfaction=satisfaction, tags=()
                )
                values.update(review_kind=review, number="2026-000001" if registered else None)
                try:
                    case = Case(**values)  # type: ignore[arg-type]
                except TypeError:
                    pytest.fail("Case's fields changed: update this test")
                for step in STEPS.values():
                    why = step.condition(case)
                    if isinstance(why, Why):
                        seen.add(why.code)
                        exc = refusals.IllegalTransition(
                            "x", [], step=step.name, case="甲", why=why
                        )
                        said = zh.refusal(exc)
                        assert "{" not in said and why.code not in said, said
    assert {"awaits_approval", "not_signed", "unhappy", "needs_phase"} <= seen
