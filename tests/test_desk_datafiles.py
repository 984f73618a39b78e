"""The desk's versioned data files: the bundled lists load, and bad files are refused with
``file:line: field: problem`` messages."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from lianxin.domain.datafiles import DEFAULT_DATA_DIR, KINDS, DataFileError, load_taxonomy
from lianxin.domain.yamlnodes import display_path

# --- the bundled lists -------------------------------------------------------------------


def test_bundled_lists_load_with_versions() -> None:
    taxonomy = load_taxonomy()
    for kind in KINDS:
        catalogue = getattr(taxonomy, kind)
        assert catalogue.name == kind
        assert catalogue.version == "2026.1"
        assert catalogue.source == f"lianxin/domain/data/{kind}.yaml"
        assert len(catalogue) > 0


def test_problem_types_follow_the_reference_taxonomy() -> None:
    taxonomy = load_taxonomy()
    assert [c.code for c in taxonomy.categories()] == [
        "political",
        "organisational",
        "integrity",
        "mass",
        "work",
        "life",
        "legal",
        "other",
    ]
    # Subtype counts per first-level category, domain-rules-cn.md §3.2.
    counts = {c.code: len(taxonomy.subtypes(c.code)) for c in taxonomy.categories()}
    assert counts == {
        "political": 8,
        "organisational": 9,
        "integrity": 15,
        "mass": 4,
        "work": 6,
        "life": 3,
        "legal": 6,
        "other": 0,
    }
    gifts = taxonomy.problem_types["integrity.gifts"]
    assert (gifts.zh, gifts.parent) == ("违规接受礼品礼金宴请服务", "integrity")
    assert taxonomy.problem_types["integrity"].zh == "违反廉洁纪律"


def test_lookups_by_code() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.ranks["province_ministry"].band == 1
    assert "general_cadre" in taxonomy.ranks
    assert "nobody" not in taxonomy.ranks
    assert taxonomy.ranks.get("nobody") is None
    with pytest.raises(KeyError):
        taxonomy.ranks["nobody"]
    assert taxonomy.ranks.codes()[0] == "province_ministry"


def test_other_lists_have_the_domain_codes() -> None:
    t = load_taxonomy()
    assert [r.zh for r in t.ranks][:5] == ["省部级", "厅局级", "县处级", "乡科级", "一般干部"]
    assert [b.band for b in t.ranks] == sorted(b.band for b in t.ranks)
    assert t.item_types.codes() == (
        "accusation",
        "appeal",
        "suggestion",
        "out_of_scope",
        "no_substance",
        "repeat",
    )
    assert not t.item_types["out_of_scope"].in_scope
    assert {"letter", "visit", "phone", "online", "complaint_box", "village_station"} <= set(
        t.channels.codes()
    )
    towns = [r for r in t.regions if r.level == "town"]
    assert len(towns) == 8 and all(r.parent == "county" for r in towns)
    assert t.units["external.ecology_environment"].kind == "external"
    assert t.units["group.resident_1"].zh == "派驻第一纪检监察组"
    assert {"epidemic", "poverty_alleviation", "organised_crime", "livelihood"} <= set(
        t.tags.codes()
    )
    assert {"talk_inquiry", "preliminary_check", "shelve", "close", "direct"} <= set(
        t.dispositions.codes()
    )


def test_bundled_files_are_named_relative_to_the_repository() -> None:
    assert display_path(DEFAULT_DATA_DIR / "ranks.yaml") == "lianxin/domain/data/ranks.yaml"


def test_replacement_file_is_used(tmp_path: Path) -> None:
    ranks = tmp_path / "ranks.yaml"
    ranks.write_text(
        'version: "2027.1"\nitems:\n  - {code: all, zh: 全部, en: Everyone, band: 1}\n',
        encoding="utf-8",
    )
    taxonomy = load_taxonomy(replacements={"ranks": ranks})
    assert taxonomy.ranks.version == "2027.1"
    assert taxonomy.ranks.codes() == ("all",)
    assert taxonomy.ranks.source == str(ranks)


def test_a_whole_data_directory_can_be_replaced(tmp_path: Path) -> None:
    for kind in KINDS:
        shutil.copy(DEFAULT_DATA_DIR / f"{kind}.yaml", tmp_path)
    assert load_taxonomy(tmp_path).ranks.source == str(tmp_path / "ranks.yaml")


# --- bad files ----------------------------------------------------------------------------


def _refused(tmp_path: Path, kind: str, text: str) -> str:
    path = tmp_path / f"{kind}.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_taxonomy(replacements={kind: path})
    message = str(caught.value)
    prefix = f"{path}:"
    assert message.startswith(prefix)
    return message[len(prefix) :]


def test_duplicate_code(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - code: county
            zh: 县处级
            en: County
            band: 3
          - code: county
            zh: 乡科级
            en: Township
            band: 4
    """
    assert _refused(tmp_path, "ranks", text) == "7: items[1].code: duplicate code 'county'"


def test_unknown_field(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - code: letter
            zh: 来信
            en: Letter
            colour: red
    """
    assert _refused(tmp_path, "channels", text) == (
        "6: items[0].colour: unknown field (allowed: code, en, zh)"
    )


def test_missing_field(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - {code: letter, zh: 来信, en: Letter}
          - {code: visit, en: Visit}
    """
    assert _refused(tmp_path, "channels", text) == "4: items[1]: missing field 'zh'"


def test_missing_top_level_field(tmp_path: Path) -> None:
    assert _refused(tmp_path, "tags", 'version: "2026.1"\n') == "1: missing field 'items'"


def test_wrong_type(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - {code: top, zh: 省部级, en: Top, band: first}
    """
    assert _refused(tmp_path, "ranks", text) == (
        "3: items[0].band: expected an integer, got a string"
    )


def test_boolean_where_a_label_belongs(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - {code: letter, zh: yes, en: Letter}
    """
    assert _refused(tmp_path, "channels", text) == (
        "3: items[0].zh: expected a string, got true/false (quote it)"
    )


def test_unquoted_version(tmp_path: Path) -> None:
    text = """
        version: 2026.1
        items: [{code: letter, zh: 来信, en: Letter}]
    """
    assert _refused(tmp_path, "channels", text) == (
        "1: version: expected a string, got a number (quote it)"
    )


def test_bad_code(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - {code: Letter-Box, zh: 来信, en: Letter}
    """
    assert _refused(tmp_path, "channels", text) == (
        "3: items[0].code: 'Letter-Box' is not a code (lower-case ascii words joined by '.')"
    )


def test_subtype_whose_parent_does_not_exist(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - {code: political, zh: 违反政治纪律, en: Political discipline}
          - code: political.cliques
            parent: politcal
            zh: 在党内搞团团伙伙
            en: Forming cliques
    """
    assert _refused(tmp_path, "problem_types", text) == (
        "5: items[1].parent: unknown parent 'politcal'"
    )


def test_third_level_is_refused(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - {code: work, zh: 工作纪律, en: Work}
          - {code: work.secrets, parent: work, zh: 泄密, en: Secrets}
          - {code: work.secrets.leak, parent: work.secrets, zh: 泄露, en: Leak}
    """
    assert _refused(tmp_path, "problem_types", text) == (
        "5: items[2].parent: 'work.secrets' is a subtype itself; only two levels allowed"
    )


def test_subtype_code_must_start_with_its_parent(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - {code: work, zh: 工作纪律, en: Work}
          - {code: life, zh: 生活纪律, en: Life}
          - {code: life.secrets, parent: work, zh: 泄密, en: Secrets}
    """
    assert _refused(tmp_path, "problem_types", text) == (
        "5: items[2].code: 'life.secrets' must start with its parent's code 'work.'"
    )


def test_dotted_code_without_parent(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - {code: work.secrets, zh: 泄密, en: Secrets}
    """
    assert _refused(tmp_path, "problem_types", text) == (
        "3: items[0].code: 'work.secrets' looks like a subtype but has no parent"
    )


def test_unit_in_unknown_region(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - {code: office.letters, kind: internal, region: county, zh: 信访室, en: Letters}
          - {code: town.x, kind: internal, region: town.nowhere, zh: 某镇纪委, en: X}
    """
    assert _refused(tmp_path, "units", text) == (
        "4: items[1].region: unknown region 'town.nowhere'"
        " (not in lianxin/domain/data/regions.yaml)"
    )


def test_unit_kind_must_be_internal_or_external(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - {code: office.letters, kind: inside, zh: 信访室, en: Letters}
    """
    assert _refused(tmp_path, "units", text) == (
        "3: items[0].kind: 'inside' is not one of: external, internal"
    )


def test_town_needs_a_county(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - {code: county, level: county, zh: 示例县, en: County}
          - {code: town.a, level: town, zh: 甲镇, en: A}
    """
    assert (
        _refused(tmp_path, "regions", text) == "4: items[1].level: a town needs a 'parent' county"
    )


def test_band_out_of_range_and_out_of_order(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - {code: top, zh: 省部级, en: Top, band: 0}
    """
    assert _refused(tmp_path, "ranks", text) == "3: items[0].band: 0 is out of range (1..20)"
    text = """
        version: "2026.1"
        items:
          - {code: low, zh: 乡科级, en: Low, band: 4}
          - {code: top, zh: 省部级, en: Top, band: 1}
    """
    assert _refused(tmp_path, "ranks", text) == (
        "4: items[1].band: band 1 after band 4: list ranks from most to least senior"
    )


def test_empty_items(tmp_path: Path) -> None:
    assert _refused(tmp_path, "tags", 'version: "2026.1"\nitems: []\n') == (
        "2: items: must not be empty"
    )


def test_duplicate_key(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - code: letter
            zh: 来信
            zh: 信件
            en: Letter
    """
    assert _refused(tmp_path, "channels", text) == "5: items[0].zh: duplicate key"


def test_invalid_yaml(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - {code: letter, zh: 来信, en: Letter
    """
    assert _refused(tmp_path, "channels", text) == (
        "4: invalid YAML: expected ',' or '}', but got '<stream end>'"
    )


def test_empty_file_and_wrong_top_level(tmp_path: Path) -> None:
    assert _refused(tmp_path, "tags", "# nothing yet\n") == "1: file is empty"
    assert _refused(tmp_path, "tags", "- a\n- b\n") == "1: expected a mapping, got a list"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(DataFileError, match=r"absent\.yaml: cannot read: No such file"):
        load_taxonomy(replacements={"tags": path})


def test_unknown_list_name(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="unknown list 'colours'"):
        load_taxonomy(replacements={"colours": tmp_path / "colours.yaml"})


def test_error_carries_its_parts(tmp_path: Path) -> None:
    path = tmp_path / "tags.yaml"
    path.write_text('version: "2026.1"\nitems: []\n', encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_taxonomy(replacements={"tags": path})
    error = caught.value
    assert (error.file, error.line, error.field, error.problem) == (
        str(path),
        2,
        "items",
        "must not be empty",
    )


def test_null_and_multi_document_files(tmp_path: Path) -> None:
    text = """
        version: "2026.1"
        items:
          - {code: letter, zh: , en: Letter}
    """
    assert _refused(tmp_path, "channels", text) == (
        "3: items[0].zh: expected a string, got nothing (null)"
    )
    assert _refused(tmp_path, "tags", 'version: "2026.1"\n---\nitems: []\n') == (
        "2: invalid YAML: expected a single document in the stream, but found another document"
    )
