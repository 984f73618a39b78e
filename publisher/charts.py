"""Static SVG charts drawn at build time: no JavaScript, no fonts, no references to other origins.

Each chart is a complete ``<svg>`` element that can be inlined in a page or saved as a file. It has
``role="img"``, an ``aria-label``, a ``<title>`` and a ``<desc>``. The desc ends with every data
point as text, because screen readers do not read inside an image. A value of ``None`` means
suppressed. It is drawn as a hatched stub with a neutral mark (``×`` by default), never "<10",
because secondary suppressions are not small. The same input always gives the same bytes.

A chart starts with its title (and, optionally, the period it covers) as visible text. Its
drawing is 480 units wide with 17-unit text: an image scales with the page, and on a phone
(about 350 CSS px of content) the text stays at 12 CSS px or more.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
import unicodedata
from collections.abc import Sequence
from typing import Literal

from publisher.errors import ChartInputError

Datum = tuple[str, int | None]

# System font names only; nothing is downloaded. CJK faces come before the generic fallback so
# Chinese labels use a proper Chinese font on each platform.
FONT_STACK = (
    "system-ui, -apple-system, 'Segoe UI', 'PingFang SC', 'Hiragino Sans GB', "
    "'Microsoft YaHei', 'Noto Sans CJK SC', 'Source Han Sans SC', sans-serif"
)
BAR_COLOUR = "#3b6fb6"  # readable on light and dark page backgrounds
FONT_SIZE = 17
NOTE_SIZE = 16
WIDTH = 480
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def bar_chart(
    data: Sequence[Datum],
    *,
    title: str,
    desc: str,
    period: str = "",
    width: int = WIDTH,
    suppressed_mark: str = "×",
    suppressed_note: str = "× = 数值已隐去以保护当事人 (suppressed)",
    chart_id: str | None = None,
) -> str:
    """A horizontal bar chart: one labelled bar per (label, value), top to bottom."""
    _check(data, width)
    cid = _chart_id(chart_id, "bar", title, data)
    row_h, bar_h, pad = round(FONT_SIZE * 1.8), round(FONT_SIZE * 1.2), 8
    label_w = min(width * 0.4, max(_text_width(label) for label, _ in data) + pad)
    value_w = max((_text_width(str(v)) for _, v in data if v is not None), default=0.0)
    plot_x, plot_w = label_w + pad, width - label_w - 2 * pad - value_w - pad
    if plot_w < 40:
        raise ChartInputError("the chart is too narrow for its labels")
    top = _nice_max(max((v for _, v in data if v is not None), default=0))
    head = _heading_height(period)
    height = head + pad * 2 + row_h * len(data) + (row_h if any(v is None for _, v in data) else 0)
    parts = _open(cid, title, desc, data, width, height, suppressed_mark)
    parts += _heading(title, period, width)
    for n, (label, value) in enumerate(data):
        y = head + pad + n * row_h
        mid = y + row_h / 2
        shown = _truncate(label, label_w - pad)
        parts.append(
            f'<text x="{_n(label_w)}" y="{_n(mid)}" text-anchor="end" dominant-baseline="middle">'
            f"<title>{_esc(label)}</title>{_esc(shown)}</text>"
        )
        bar_y = mid - bar_h / 2
        if value is None:
            parts.append(_stub(cid, plot_x, bar_y, FONT_SIZE * 2, bar_h))
            end, text = plot_x + FONT_SIZE * 2, suppressed_mark
        else:
            length = plot_w * value / top if top else 0
            parts.append(
                f'<rect x="{_n(plot_x)}" y="{_n(bar_y)}" width="{_n(length)}" '
                f'height="{bar_h}" fill="{BAR_COLOUR}"/>'
            )
            end, text = plot_x + length, str(value)
        parts.append(
            f'<text x="{_n(end + 4)}" y="{_n(mid)}" dominant-baseline="middle">{_esc(text)}</text>'
        )
    parts.append(
        f'<line x1="{_n(plot_x)}" y1="{head + pad}" x2="{_n(plot_x)}" '
        f'y2="{_n(head + pad + row_h * len(data))}" stroke="currentColor"/>'
    )
    if any(v is None for _, v in data):
        parts.append(
            f'<text x="{pad}" y="{_n(height - pad - row_h / 2)}" dominant-baseline="middle" '
            f'font-size="{NOTE_SIZE}">'
            f"{_esc(_truncate(suppressed_note, width - 2 * pad, NOTE_SIZE))}</text>"
        )
    return _close(parts)


def monthly_chart(
    data: Sequence[Datum],
    *,
    title: str,
    desc: str,
    period: str = "",
    kind: Literal["column", "line"] = "column",
    width: int = WIDTH,
    height: int = 320,
    suppressed_mark: str = "×",
    suppressed_note: str = "× = 数值已隐去以保护当事人 (suppressed)",
    chart_id: str | None = None,
) -> str:
    """A chart of monthly values, left to right: columns, or a line broken at suppressed months."""
    _check(data, width)
    if kind not in ("column", "line"):
        raise ChartInputError("kind must be 'column' or 'line'")
    if not 160 <= height <= 2000:
        raise ChartInputError("height must be between 160 and 2000")
    cid = _chart_id(chart_id, kind, title, data)
    top = _nice_max(max((v for _, v in data if v is not None), default=0))
    ticks = _ticks(top)
    pad = 8
    head = _heading_height(period)
    axis_w = max(_text_width(str(t)) for t in ticks) + pad
    note_h = FONT_SIZE + 6 if any(v is None for _, v in data) else 0
    x0, y0 = pad + axis_w, height + head - pad - FONT_SIZE - 8 - note_h  # y0 is the baseline
    plot_w, plot_h = width - x0 - pad, y0 - head - pad - FONT_SIZE
    slot = plot_w / len(data)
    widest = max(_text_width(label) for label, _ in data)
    label_every = max(1, math.ceil(widest / max(slot - 4, 1)))  # thin out labels that collide

    def y_of(v: int) -> float:
        return y0 - (plot_h * v / top if top else 0)

    parts = _open(cid, title, desc, data, width, height + head, suppressed_mark)
    parts += _heading(title, period, width)
    for t in ticks:
        y = y_of(t)
        parts.append(
            f'<line x1="{_n(x0)}" y1="{_n(y)}" x2="{_n(x0 + plot_w)}" y2="{_n(y)}" '
            f'stroke="currentColor" stroke-opacity="{1 if t == 0 else 0.2}"/>'
            f'<text x="{_n(x0 - 4)}" y="{_n(y)}" text-anchor="end" '
            f'dominant-baseline="middle">{t}</text>'
        )
    line: list[str] = []
    marks: list[str] = []  # points and value labels go last, so lines never cover them
    for n, (label, value) in enumerate(data):
        cx = x0 + slot * (n + 0.5)
        if n % label_every == 0:
            parts.append(
                f'<text x="{_n(cx)}" y="{_n(y0 + FONT_SIZE + 2)}" text-anchor="middle">'
                f"<title>{_esc(label)}</title>{_esc(_truncate(label, slot * label_every))}</text>"
            )
        if value is None:
            if kind == "column":
                parts.append(_stub(cid, cx - slot * 0.3, y0 - 12, slot * 0.6, 12))
            _flush(parts, line)
            mark_y = y0 - 18.0
        else:
            if kind == "column":
                top_y = y_of(value)
                parts.append(
                    f'<rect x="{_n(cx - slot * 0.3)}" y="{_n(top_y)}" width="{_n(slot * 0.6)}" '
                    f'height="{_n(y0 - top_y)}" fill="{BAR_COLOUR}"/>'
                )
            else:
                line.append(f"{_n(cx)},{_n(y_of(value))}")
                marks.append(
                    f'<circle cx="{_n(cx)}" cy="{_n(y_of(value))}" r="3" fill="{BAR_COLOUR}"/>'
                )
            mark_y = y_of(value) - 6
        text = suppressed_mark if value is None else str(value)
        marks.append(
            f'<text x="{_n(cx)}" y="{_n(mark_y)}" text-anchor="middle">{_esc(text)}</text>'
        )
    _flush(parts, line)
    parts += marks
    if note_h:
        parts.append(
            f'<text x="{pad}" y="{_n(height + head - pad - 4)}" font-size="{NOTE_SIZE}">'
            f"{_esc(_truncate(suppressed_note, width - 2 * pad, NOTE_SIZE))}</text>"
        )
    return _close(parts)


def _heading_height(period: str) -> int:
    return round(FONT_SIZE * (3.0 if period else 1.7))


def _heading(title: str, period: str, width: int) -> list[str]:
    """The title (bold) and the period covered, as visible text at the top."""
    room = width - 16
    parts = [
        f'<text x="8" y="{FONT_SIZE + 2}" font-weight="700">'
        f"{_esc(_truncate(title, room / 1.05))}</text>"
    ]
    if period:
        parts.append(
            f'<text x="8" y="{round(FONT_SIZE * 2.3) + 2}" font-size="{NOTE_SIZE}">'
            f"{_esc(_truncate(period, room, NOTE_SIZE))}</text>"
        )
    return parts


def _open(
    cid: str, title: str, desc: str, data: Sequence[Datum], width: int, height: float, mark: str
) -> list[str]:
    listing = "; ".join(f"{label}: {mark if v is None else v}" for label, v in data)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{_n(height)}" '
        f'viewBox="0 0 {width} {_n(height)}" role="img" aria-label="{_esc(title)}" '
        f'aria-describedby="{cid}-desc" '
        f'font-family="{FONT_STACK}" font-size="{FONT_SIZE}" fill="currentColor">',
        f'<title id="{cid}-title">{_esc(title)}</title>',
        f'<desc id="{cid}-desc">{_esc(desc)} {_esc(listing)}</desc>',
        f'<defs><pattern id="{cid}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" '
        'stroke="currentColor" stroke-width="2" stroke-opacity="0.55"/></pattern></defs>',
    ]


def _close(parts: list[str]) -> str:
    return "\n".join([*parts, "</svg>"]) + "\n"


def _stub(cid: str, x: float, y: float, w: float, h: float) -> str:
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" '
        f'fill="url(#{cid}-hatch)" stroke="currentColor" stroke-dasharray="2 2"/>'
    )


def _flush(parts: list[str], line: list[str]) -> None:
    if len(line) > 1:
        parts.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="{BAR_COLOUR}" '
            'stroke-width="2"/>'
        )
    line.clear()


def _check(data: Sequence[Datum], width: int) -> None:
    if not data:
        raise ChartInputError("a chart needs at least one data point")
    if not 200 <= width <= 4000:
        raise ChartInputError("width must be between 200 and 4000")
    for label, value in data:
        if not isinstance(label, str):
            raise ChartInputError("labels must be strings")
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise ChartInputError(f"value for {label!r} must be a non-negative integer or None")


def _chart_id(chart_id: str | None, kind: str, title: str, data: Sequence[Datum]) -> str:
    if chart_id is not None:
        if not _ID.fullmatch(chart_id):
            raise ChartInputError("chart_id must be a letter then letters, digits, '_' or '-'")
        return chart_id
    # Derived from the content so that two charts inlined in one page get different pattern ids.
    digest = hashlib.sha256(repr((kind, title, list(data))).encode()).hexdigest()
    return f"lx-{digest[:10]}"


def _nice_max(value: int) -> int:
    """The smallest 1, 2 or 5 × 10^k that is at least ``value`` (0 stays 0)."""
    if value <= 0:
        return 0
    power = int(10 ** (len(str(value)) - 1))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


def _ticks(top: int) -> list[int]:
    if top == 0:
        return [0]
    step = top // 5 if top % 5 == 0 and top >= 5 else top // 4 if top % 4 == 0 else top
    return list(range(0, top + 1, max(step, 1)))


def _text_width(text: str, size: float = FONT_SIZE) -> float:
    """Rough rendered width: wide (CJK) characters 1 em, the others 0.6 em."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


def _truncate(text: str, room: float, size: float = FONT_SIZE) -> str:
    if _text_width(text, size) <= room:
        return text
    while text and _text_width(text + "…", size) > room:
        text = text[:-1]
    return text + "…"


def _esc(text: str) -> str:
    # XML parsers turn line breaks in attributes into spaces; do it here so text and attributes
    # agree, and so a label cannot break the layout.
    text = _NOT_XML.sub("\ufffd", text).replace("\t", " ").replace("\n", " ").replace("\r", " ")
    return html.escape(text, quote=True)


def _n(x: float) -> str:
    """Coordinates with one decimal, so output is stable and small."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s
