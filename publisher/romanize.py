"""Chinese personal names in Latin letters (Hanyu Pinyin), for the English pages.

Only a fallback: the leaders file may give each name in English (``en: {name: …}``), and that
always wins. Otherwise the name is written the way Chinese names are in English text: surname
first, then the given name as one word, both capitalised, without tone marks ("林示范" →
"Lin Shifan"). Surnames are read as surnames: a polyphonic character takes its surname reading
(曾 Zeng, not ceng; 单 Shan, not dan), and the common two-character surnames stay together
(欧阳 Ouyang). Text that is not Chinese is returned unchanged.
"""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin

# Characters whose reading as a surname differs from their most common reading.
_SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "解": "xie", "区": "ou", "仇": "qiu", "朴": "piao", "查": "zha",
    "覃": "qin", "盖": "ge", "乐": "yue", "缪": "miao", "召": "shao", "种": "chong", "秘": "bi",
    "员": "yun", "折": "she", "繁": "po", "宓": "fu", "黑": "he", "翟": "zhai", "祭": "zhai",
    "尉迟": "yuchi", "万俟": "moqi", "长孙": "zhangsun",
}  # fmt: skip
_COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙",
        "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延", "申屠",
        "万俟", "司空", "闻人", "赫连", "澹台", "公冶", "太史", "淳于", "钟离", "濮阳",
    }
)  # fmt: skip


def _is_han(text: str) -> bool:
    return bool(text) and all("\u3400" <= ch <= "\u9fff" or ch == "·" for ch in text)


def _syllables(text: str) -> str:
    return "".join(lazy_pinyin(text, style=Style.NORMAL, v_to_u=True))


def romanize_name(name: str) -> str:
    """A Chinese name in pinyin, surname first ("Lin Shifan"); other text unchanged."""
    name = name.strip()
    if not _is_han(name):
        return name
    if "·" in name:  # a transcribed name (e.g. Uyghur): its parts in order, no surname rule
        return " ".join(_syllables(part).capitalize() for part in name.split("·") if part)
    cut = 2 if name[:2] in _COMPOUND_SURNAMES and len(name) > 2 else 1
    surname, given = name[:cut], name[cut:]
    family = _SURNAME_READINGS.get(surname) or _syllables(surname)
    return " ".join(part.capitalize() for part in (family, _syllables(given)) if part)
