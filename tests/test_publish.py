"""The publisher end to end: a real store, a real MkDocs build, a signed manifest."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ROOT

from lianxin import keys as keys_mod
from lianxin.protocol import Token
from lianxin.status import read_status
from lianxin.store.db import connect
from publisher.build import PublishSettings, publish
from publisher.manifest import SiteVerificationError, verify_site

TODAY = date(2026, 11, 23)


def _tracked_state() -> dict[str, str]:
    listed = subprocess.run(
        ["git", "ls-files", "portal", "mkdocs.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        p: hashlib.sha256((ROOT / p).read_bytes()).hexdigest()
        for p in listed
        if (ROOT / p).is_file()
    }


def _one_case(db_path: Path) -> Token:
    db = connect(db_path)
    token = Token.generate()
    k = token.keys()
    with db.atomic():
        case = db.execute(
            "INSERT INTO cases (channel, received_date, state) VALUES "
            "('letter', '2026-11-02', 'received')"
        ).lastrowid
        db.execute(
            "INSERT INTO tokens VALUES (?, ?, ?, ?, '2026-11-02')",
            [k.lookup_id, case, bytes(k.reply_public), bytes(k.followup_verify)],
        )
    db.conn.close()
    return token


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Token]:
    tmp = tmp_path_factory.mktemp("publish")
    keys_dir = tmp / "keys"
    keys_mod.init_keys(keys_dir)
    token = _one_case(tmp / "db.sqlite")
    before = _tracked_state()
    publish(PublishSettings(tmp / "db.sqlite", keys_dir, tmp / "site", TODAY))
    assert _tracked_state() == before, "the build changed tracked files"
    return tmp, keys_dir, token


def test_site_has_both_languages_keys_and_status(built: tuple[Path, Path, Token]) -> None:
    tmp, keys_dir, token = built
    site = tmp / "site"
    for path in (
        "index.html",
        "en/index.html",
        "keys/index.html",
        "en/keys/index.html",
        "keys.json",
        "keys.json.sig",
        "status/index.json",
        "manifest.json",
    ):
        assert (site / path).is_file(), path
    keyring = keys_mod.load_keyring(keys_dir)
    assert keyring.current_office.key_id in (site / "keys/index.html").read_text()
    found = read_status(str(site), token)
    assert found is not None and found.status["state"] == "received"


def test_manifest_verifies_and_detects_tampering(
    built: tuple[Path, Path, Token], tmp_path: Path
) -> None:
    tmp, keys_dir, _ = built
    fp = keys_mod.load_keyring(keys_dir).publisher.fingerprint
    result = verify_site(str(tmp / "site"), publisher_fingerprint=fp)
    assert result.files > 10
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tmp / "site", copy)
    (copy / "index.html").write_text((copy / "index.html").read_text() + "<!-- x -->")
    with pytest.raises(SiteVerificationError, match="index.html"):
        verify_site(str(copy))
    shutil.rmtree(copy)
    shutil.copytree(tmp / "site", copy)
    (copy / "extra.js").write_text("alert(1)")
    with pytest.raises(SiteVerificationError, match="extra.js"):
        verify_site(str(copy))
    with pytest.raises(SiteVerificationError, match="expected"):
        verify_site(str(tmp / "site"), publisher_fingerprint="00" * 32)


def test_published_keys_are_signed_by_the_publisher(built: tuple[Path, Path, Token]) -> None:
    from lianxin.client import load_published_keys

    tmp, keys_dir, _ = built
    published = load_published_keys(str(tmp / "site" / "keys.json"))
    assert published.signed
    assert published.keyring == keys_mod.load_keyring(keys_dir)


def test_failed_build_leaves_the_published_site_alone(
    built: tuple[Path, Path, Token], tmp_path: Path
) -> None:
    tmp, keys_dir, _ = built
    portal = tmp_path / "portal"
    import shutil

    shutil.copytree(ROOT / "portal", portal, ignore=shutil.ignore_patterns("node_modules"))
    (portal / "templates" / "broken.zh.md.j2").write_text("{{ no_such_value }}")
    before = (tmp / "site" / "manifest.json").read_bytes()
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        publish(
            PublishSettings(tmp / "db.sqlite", keys_dir, tmp / "site", TODAY, portal_dir=portal)
        )
    assert (tmp / "site" / "manifest.json").read_bytes() == before
    leftovers = [p.name for p in tmp.iterdir() if p.name.startswith(".site.")]
    assert leftovers == []


def test_empty_database_gives_a_valid_site(tmp_path: Path, keys_dir: Path) -> None:
    connect(tmp_path / "empty.sqlite").conn.close()
    result = publish(PublishSettings(tmp_path / "empty.sqlite", keys_dir, tmp_path / "site", TODAY))
    assert result.status["tokens"] == 0
    index = json.loads((tmp_path / "site/status/index.json").read_text())
    assert index["shards"] == 1
    verify_site(str(tmp_path / "site"))


def test_cli_publish_status_and_verify(built: tuple[Path, Path, Token]) -> None:
    tmp, keys_dir, token = built

    def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lianxin_cli", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            input=stdin,
            timeout=300,
        )

    shown = cli("status", "--site", str(tmp / "site"), "-", stdin=str(token))
    assert shown.returncode == 0 and "received" in shown.stdout
    assert "[" not in shown.stdout  # no Rich markup printed as text
    unknown = cli("status", "--site", str(tmp / "site"), str(Token.generate()))
    assert unknown.returncode == 3 and "No case" in unknown.stderr and unknown.stdout == ""
    typo = str(token)[:-1] + ("0" if str(token)[-1] != "0" else "1")
    refused = cli("status", "--site", str(tmp / "site"), typo)
    assert refused.returncode == 1 and "check symbol" in refused.stderr
    ok = cli("verify-site", str(tmp / "site"))
    assert ok.returncode == 0 and "OK" in ok.stdout
    missing = cli(
        "publish",
        "--db",
        str(tmp / "nope.sqlite"),
        "--keys",
        str(keys_dir),
        "--out",
        str(tmp / "x"),
    )
    assert missing.returncode == 1 and "no such database" in missing.stderr


CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"  # CJK punctuation, ideographs, full-width forms
STRAY_SPACE = re.compile(f"{CJK}\\s+{CJK}")


class _TextOutsideCode(HTMLParser):
    """The text a reader sees, without scripts, styles and code (where spaces are meant)."""

    SKIPPED = frozenset({"script", "style", "pre", "code"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.stray: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.depth += tag in self.SKIPPED

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag in self.SKIPPED

    def handle_data(self, data: str) -> None:
        if not self.depth:
            for m in STRAY_SPACE.finditer(data):
                self.stray.append(data[max(0, m.start() - 10) : m.end() + 10])


def test_no_stray_space_between_chinese_characters(built: tuple[Path, Path, Token]) -> None:
    # A line break inside a Chinese sentence in the Markdown source becomes a visible space in
    # the browser ("签名， 只有"): Chinese paragraphs are written on one line
    # (tests/fix_cjk_line_breaks.py joins such lines).
    site = built[0] / "site"
    found = []
    for page in sorted(site.rglob("*.html")):
        parser = _TextOutsideCode()
        parser.feed(page.read_text(encoding="utf-8"))
        found += [f"{page.relative_to(site)}: {text!r}" for text in parser.stray]
    assert not found, "\n".join(found)
