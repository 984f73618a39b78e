"""Material's built assets, trimmed by the publisher: no source maps, a late search index."""

from __future__ import annotations

import shutil
from pathlib import Path

import material

from publisher.themeassets import EAGER_INDEX, lazy_search_index, strip_source_maps

MATERIAL_ASSETS = Path(material.__file__).parent / "templates" / "assets"


def _copy_assets(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(MATERIAL_ASSETS, site / "assets")
    return site


def test_source_maps_and_their_comments_are_removed(tmp_path: Path) -> None:
    site = _copy_assets(tmp_path)
    before = sorted(site.rglob("*.map"))
    assert before, "the installed Material ships source maps: this test checks their removal"
    removed, size = strip_source_maps(site)
    assert removed == len(before) and size > 0
    assert not list(site.rglob("*.map"))
    for path in [*site.rglob("*.js"), *site.rglob("*.css")]:
        assert b"sourceMappingURL" not in path.read_bytes(), path
    assert strip_source_maps(site) == (0, 0)  # nothing left to do


def test_the_installed_bundle_is_made_to_load_the_index_late(tmp_path: Path) -> None:
    # Fails when a Material upgrade moves the code: then the build still works, but loads the
    # index on every page (the build says so), and this pattern needs a look.
    site = _copy_assets(tmp_path)
    (bundle,) = (site / "assets" / "javascripts").glob("bundle.*.min.js")
    assert len(EAGER_INDEX.findall(bundle.read_bytes())) == 1
    assert lazy_search_index(site)
    assert b'location.protocol!=="file:"),' not in bundle.read_bytes()
    assert not lazy_search_index(site)  # already done: left alone


def test_an_unknown_bundle_is_left_as_it_is(tmp_path: Path) -> None:
    bundle = tmp_path / "site" / "assets" / "javascripts" / "bundle.0.min.js"
    bundle.parent.mkdir(parents=True)
    bundle.write_text("console.log(1)\n//# sourceMappingURL=bundle.0.min.js.map\n")
    assert not lazy_search_index(tmp_path / "site")
    strip_source_maps(tmp_path / "site")
    assert bundle.read_text() == "console.log(1)\n"
