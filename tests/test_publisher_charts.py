"""SVG charts: well-formed, accessible, self-contained, escaped and deterministic."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.charts import bar_chart, monthly_chart
from publisher.errors import ChartInputError

SVG = "{http://www.w3.org/2000/svg}"
TYPES = [("基础设施建设", 43), ("其他", 35), ("社会保障", 24), ("林地", 11), ("惠民政策", None)]
MONTHS = [(f"2025-{m:02d}", v) for m, v in enumerate([12, 15, None, 30, 28, None, 40], 1)]


def charts() -> list[str]:
    return [
        bar_chart(TYPES, title="2025年问题类型", desc="按问题类型统计。"),
        monthly_chart(MONTHS, title="每月收件数", desc="每月收到的件数。"),
        monthly_chart(MONTHS, title="每月收件数", desc="每月收到的件数。", kind="line"),
    ]


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("svg", charts())
def test_chart_is_accessible_svg(svg: str) -> None:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") in ("2025年问题类型", "每月收件数")
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == root.get("aria-label")
    assert desc is not None and desc.text is not None
    assert root.get("aria-describedby") == desc.get("id")
    assert ": ×" in desc.text  # the data, suppressed values included, are in the text


@pytest.mark.parametrize("svg", charts())
def test_chart_references_nothing_outside(svg: str) -> None:
    assert re.findall(r"https?:|//", svg) == ["http:", "//"]  # only the namespace
    assert 'xmlns="http://www.w3.org/2000/svg"' in svg
    root = ET.fromstring(svg)
    for element in root.iter():
        assert element.tag.split("}")[1] not in ("script", "image", "foreignObject", "style")
        assert not any("href" in name or name.startswith("on") for name in element.attrib)
        for value in element.attrib.values():
            for ref in re.findall(r"url\(([^)]*)\)", value):
                assert ref.startswith("#")


@pytest.mark.parametrize("svg", charts())
def test_suppressed_values_are_drawn_distinctly(svg: str) -> None:
    root = ET.fromstring(svg)
    hatched = [r for r in root.iter(f"{SVG}rect") if r.get("fill", "").startswith("url(#")]
    assert "×" in texts(root)
    assert "<10" not in svg and "&lt;10" not in svg  # a secondary suppression need not be small
    if root.find(f".//{SVG}polyline") is None:  # bars and columns get a hatched stub
        assert hatched


def test_line_is_broken_at_suppressed_months() -> None:
    root = ET.fromstring(charts()[2])
    lines = root.findall(f"{SVG}polyline")
    assert [len(p.get("points", "").split()) for p in lines] == [2, 2]  # Jan–Feb, Apr–May


def test_chinese_labels_and_values_are_kept() -> None:
    root = ET.fromstring(charts()[0])
    shown = texts(root)
    for label, value in TYPES:
        assert any(t.endswith(label) for t in shown)
        if value is not None:
            assert str(value) in shown


def test_output_is_deterministic_and_ids_differ_between_charts() -> None:
    assert charts() == charts()
    ids = {re.search(r'id="([^"]+)-title"', svg)[1] for svg in charts()}  # type: ignore[index]
    assert len(ids) == 3


def test_hostile_text_is_escaped() -> None:
    label = '</text><script>alert("x")</script>&amp;\x00\x1b'
    svg = bar_chart([(label, 1)], title="<b>t</b>", desc="a & b \"c\" 'd'")
    root = ET.fromstring(svg)
    assert root.find(f".//{SVG}script") is None
    assert root.get("aria-label") == "<b>t</b>"
    title = root.find(f".//{SVG}text/{SVG}title")
    assert title is not None and title.text == '</text><script>alert("x")</script>&amp;\ufffd\ufffd'


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=30), st.one_of(st.none(), st.integers(0, 10**6))),
        min_size=1,
        max_size=14,
    ),
    st.text(max_size=40),
    st.sampled_from(["bar", "column", "line"]),
)
def test_any_text_gives_well_formed_svg(
    data: list[tuple[str, int | None]], title: str, kind: str
) -> None:
    try:
        if kind == "bar":
            svg = bar_chart(data, title=title, desc=title, width=900)
        else:
            svg = monthly_chart(data, title=title, desc=title, kind=kind)  # type: ignore[arg-type]
    except ChartInputError as exc:
        assert "too narrow" in str(exc)  # very long labels in a bar chart
        return
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    title_element = root.find(f"{SVG}title")
    assert title_element is not None
    assert (title_element.text or "") == clean(title)


def clean(text: str) -> str:
    """What survives of arbitrary text: XML-illegal characters replaced, line breaks as spaces."""
    text = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "\ufffd", text)
    return re.sub("[\t\n\r]", " ", text)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: bar_chart([], title="t", desc="d"), "at least one"),
        (lambda: bar_chart([("a", -1)], title="t", desc="d"), "non-negative"),
        (lambda: bar_chart([("a", True)], title="t", desc="d"), "non-negative"),
        (lambda: bar_chart([("a", 1)], title="t", desc="d", chart_id="1x"), "chart_id"),
        (lambda: monthly_chart([("a", 1)], title="t", desc="d", kind="pie"), "kind"),  # type: ignore[arg-type]
        (lambda: monthly_chart([("a", 1)], title="t", desc="d", width=50), "width"),
    ],
)
def test_bad_input_is_refused(call: object, message: str) -> None:
    with pytest.raises(ChartInputError, match=message):
        call()  # type: ignore[operator]
