"""mkdocs.yml has no key twice: YAML keeps the last one silently (a merge once dropped the
theme's colours that way)."""

from __future__ import annotations

import yaml
from conftest import ROOT


def _duplicates(node: yaml.Node, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                found.append(f"{path}/{name} (line {key.start_mark.line + 1})")
            seen.add(name)
            found += _duplicates(value, f"{path}/{name}")
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found += _duplicates(item, path)
    return found


def test_no_key_appears_twice() -> None:
    node = yaml.compose((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    assert node is not None
    assert _duplicates(node) == []


def test_the_check_finds_a_repeated_key() -> None:
    node = yaml.compose("a: 1\nb:\n  c: 2\na: 3\n", Loader=yaml.SafeLoader)
    assert node is not None
    assert _duplicates(node) == ["/a (line 4)"]
