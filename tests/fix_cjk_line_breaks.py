"""Join Chinese sentences that a source line break splits (the fix for the stray-space test).

    .venv/bin/python tests/fix_cjk_line_breaks.py portal/docs/*.zh.md portal/templates/*.zh.md.j2

A line break between two Chinese characters in Markdown becomes a visible space in the browser
("签名， 只有"); tests/test_publish.py::test_no_stray_space_between_chinese_characters finds
them in the built site. This joins such lines in place: a line that ends with a CJK character
and a following line that starts with one, outside code fences, headings, tables and HTML lines.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def join_lines(text: str) -> tuple[str, int]:
    """The text with split Chinese sentences joined, and how many joins were made."""
    out: list[str] = []
    fence = False
    joined = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fence = not fence
            out.append(line)
            continue
        if not fence and out and stripped and CJK.match(stripped[0]):
            prev = out[-1].rstrip()
            starts = prev.strip().startswith(("#", "|", "<", "{%", "```"))
            if prev and CJK.match(prev[-1]) and not starts and not out[-1].endswith("  "):
                out[-1] = prev + stripped
                joined += 1
                continue
        out.append(line)
    return "\n".join(out), joined


def main(paths: list[str]) -> None:
    for name in paths:
        path = Path(name)
        text, joined = join_lines(path.read_text(encoding="utf-8"))
        if joined:
            path.write_text(text, encoding="utf-8")
            print(f"{name}: joined {joined} lines")


if __name__ == "__main__":
    main(sys.argv[1:])
