"""The README's two commands on a fresh machine: `make test` installs the Debian packages it
needs first (.ci/system-deps), and a user who cannot install them is told what to run."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from conftest import ROOT


def test_make_test_installs_the_system_packages_before_anything_else() -> None:
    # -n: print the commands without running them (no venv is built). As a top-level make, even
    # when this suite itself runs under `make test` (a sub-make would print "Entering directory").
    outer = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")
    env = {name: value for name, value in os.environ.items() if name not in outer}
    for target in ("test", "demo"):
        planned = subprocess.run(
            ["make", "-n", "--no-print-directory", target],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=60,
        )
        assert planned.returncode == 0, planned.stderr
        lines = planned.stdout.splitlines()
        first = ".ci/system-deps test" if target == "test" else ".ci/system-deps base"
        assert lines[0] == first, lines
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.rstrip().endswith("make test")


def test_a_user_who_cannot_install_is_told_what_is_missing() -> None:
    # Outside pytest's private temporary folder, so that an unprivileged user can run it.
    with tempfile.TemporaryDirectory(prefix="lianxin-bootstrap-") as folder:
        _run_as_unprivileged_user_without_node(Path(folder))


def _run_as_unprivileged_user_without_node(tmp_path: Path) -> None:
    # A machine without node or npm: only the tools the script itself uses are on the PATH.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "python3", "grep", "fc-list", "id", "nginx"):
        # The system's tools (Debian's python3 with venv), not a user's shims.
        found = shutil.which(tool, path="/usr/bin:/bin:/usr/sbin:/sbin")
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    setpriv = str(shutil.which("setpriv"))
    drop = [] if os.geteuid() else [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    tmp_path.chmod(0o755)
    script = tmp_path / "system-deps"
    shutil.copy(ROOT / ".ci" / "system-deps", script)
    script.chmod(0o755)
    result = subprocess.run(
        [*drop, str(bin_dir / "bash"), str(script), "base"],
        capture_output=True,
        text=True,
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        timeout=60,
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Missing Debian packages: nodejs npm" in result.stderr
    assert "apt-get install --no-install-recommends nodejs npm" in result.stderr
    assert result.stdout == ""
