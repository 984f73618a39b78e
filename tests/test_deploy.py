"""The deployment files in deploy/: systemd units (``systemd-analyze verify``), the nginx
configuration (``nginx -t``, then serving a built site on loopback in front of a real gateway:
security headers, caching, the /v1/ proxy, a status lookup) and the torrc snippet (``tor
--verify-config``, then tor started offline on it: the onion service's folder, keys, address).

nginx and tor run as the test's own children (not daemons) with temporary folders and free
ports; the shipped files are copied with only their paths and ports replaced."""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import shutil
import signal
import ssl
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, GatewayProcess, free_port
from support import report_doc

from lianxin.client import GatewayClient, load_published_keys, submit_report
from lianxin.protocol import Token
from lianxin.status import read_status
from publisher.build import PublishSettings, publish
from publisher.headers import HeaderMapError, nginx_csp_map, page_policies, write_nginx_csp_map

DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TODAY = date(2026, 12, 1)
PORTAL = "portal.example.org"


# --- systemd


def _units(tmp_path: Path) -> list[Path]:
    """The shipped units, with the program path pointed at this installation's ``lianxin``
    (``systemd-analyze verify`` checks that the program exists)."""
    lianxin = Path(sys.executable).with_name("lianxin")
    assert lianxin.exists()
    out = []
    for unit in sorted((DEPLOY / "systemd").iterdir()):
        text = unit.read_text()
        assert "/opt/lianxin/.venv/bin/lianxin" in text or unit.suffix == ".timer"
        copy = tmp_path / unit.name
        copy.write_text(text.replace("/opt/lianxin/.venv/bin/lianxin", str(lianxin)))
        out.append(copy)
    return out


def _verify(units: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", *map(str, units)],
        capture_output=True, text=True, check=False, cwd=units[0].parent,
    )  # fmt: skip


def test_systemd_units_verify_and_are_hardened(tmp_path: Path) -> None:
    units = _units(tmp_path)
    names = {u.name for u in units}
    for service in ("gateway", "publish", "backup", "verify"):
        assert f"lianxin-{service}.service" in names
    for timer in ("publish", "backup", "verify"):
        assert f"lianxin-{timer}.timer" in names
    result = _verify(units)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    for unit in units:
        if unit.suffix != ".service":
            continue
        text = unit.read_text()
        for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                     "ProtectHome=yes", "CapabilityBoundingSet=\n", "User=lianxin"):  # fmt: skip
            assert line in text, (unit.name, line)
        writable = re.findall(r"^ReadWritePaths=(.*)$", text, re.MULTILINE)
        assert len(writable) == 1
        assert "/var/lib/lianxin/store" in writable[0].split()
    # the same check finds a mistake
    broken = tmp_path / "broken" / "lianxin-gateway.service"
    broken.parent.mkdir()
    gateway_unit = next(u for u in units if u.name == "lianxin-gateway.service")
    broken.write_text(gateway_unit.read_text().replace("NoNewPrivileges=yes", "NoNewPrivilege=yes"))
    assert "NoNewPrivilege" in _verify([broken]).stderr


# --- tor


TOR = shutil.which("tor") or "/usr/sbin/tor"
TOR_OPTIONS = {
    "HiddenServiceDir",
    "HiddenServicePort",
    "HiddenServiceMaxStreams",
    "HiddenServiceMaxStreamsCloseCircuit",
    "HiddenServiceEnableIntroDoSDefense",
}
# What the test adds to the shipped snippet (Debian's /etc/tor/torrc and its defaults provide
# these on a real machine): its own data folder, no SOCKS port, and no network at all.
TOR_OFFLINE = "DataDirectory {data}\nSocksPort 0\nDisableNetwork 1\nLog notice stdout\n"


def _torrc(tmp_path: Path, hidden: Path, extra: str = "") -> list[str]:
    """The shipped torrc with the onion's folder in ``tmp_path``; the arguments that run tor on
    it alone (an empty defaults file, so that no torrc of the machine is read)."""
    shipped = (DEPLOY / "tor" / "torrc").read_text()
    text = _replace(
        shipped, "HiddenServiceDir /var/lib/tor/lianxin/", f"HiddenServiceDir {hidden}/"
    )
    torrc = tmp_path / "torrc"
    torrc.write_text(text + TOR_OFFLINE.format(data=tmp_path / "tor-data") + extra)
    defaults = tmp_path / "torrc-defaults"
    defaults.write_text("")
    return ["-f", str(torrc), "--defaults-torrc", str(defaults)]


def _tor_installed() -> None:
    assert Path(TOR).exists(), (
        "tor is not installed: run `.ci/system-deps test` (Debian's tor package)"
    )


def test_torrc_points_the_onion_at_the_loopback_server() -> None:
    lines = [
        line.split()
        for line in (DEPLOY / "tor" / "torrc").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {line[0] for line in lines} <= TOR_OPTIONS
    options = {line[0]: line[1:] for line in lines}
    assert options["HiddenServicePort"][0] == "80"
    target = options["HiddenServicePort"][1]
    assert target.startswith("127.0.0.1:")
    assert f"listen {target};" in (DEPLOY / "nginx" / "lianxin.conf").read_text()


def test_tor_accepts_the_shipped_torrc(tmp_path: Path) -> None:
    _tor_installed()
    verify = [TOR, "--verify-config", *_torrc(tmp_path, tmp_path / "onion")]
    result = subprocess.run(verify, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration was valid" in result.stdout
    # the same check finds a mistake
    broken = [
        TOR,
        "--verify-config",
        *_torrc(tmp_path, tmp_path / "onion", "HiddenServicePort 80 x\n"),
    ]
    result = subprocess.run(broken, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode != 0


def _onion_address(public_key: bytes) -> str:
    """The v3 onion address of an ed25519 public key (tor's rend-spec-v3, section 6)."""
    version = b"\x03"
    checksum = hashlib.sha3_256(b".onion checksum" + public_key + version).digest()[:2]
    return base64.b32encode(public_key + checksum + version).decode().lower() + ".onion"


def test_tor_creates_the_onion_service_offline(tmp_path: Path) -> None:
    """tor started on the shipped onion-service configuration, with no network: it makes the
    onion's folder, its keys and its address (the first start on a real machine does the same;
    the circuits that publish it need the network and are not tested here)."""
    _tor_installed()
    hidden = tmp_path / "onion"
    log = (tmp_path / "tor.out").open("wb")
    tor = subprocess.Popen([TOR, *_torrc(tmp_path, hidden)], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        deadline = time.monotonic() + 60
        while not (hidden / "hostname").exists() and time.monotonic() < deadline:
            assert tor.poll() is None, (tmp_path / "tor.out").read_text()
            time.sleep(0.1)
        assert (hidden / "hostname").exists(), (tmp_path / "tor.out").read_text()
        assert tor.poll() is None  # still running: the configuration took
    finally:
        tor.terminate()
        tor.wait(timeout=30)
    hostname = (hidden / "hostname").read_text().strip()
    assert re.fullmatch(r"[a-z2-7]{56}\.onion", hostname), hostname
    public = (hidden / "hs_ed25519_public_key").read_bytes()
    assert public.startswith(b"== ed25519v1-public: type0 ==") and len(public) == 64
    assert hostname == _onion_address(public[32:])
    secret = hidden / "hs_ed25519_secret_key"
    assert secret.read_bytes().startswith(b"== ed25519v1-secret: type0 ==")
    assert stat.S_IMODE(hidden.stat().st_mode) == 0o700
    for name in ("hostname", "hs_ed25519_public_key", "hs_ed25519_secret_key"):
        assert stat.S_IMODE((hidden / name).stat().st_mode) == 0o600, name


# --- nginx


@dataclass
class Nginx:
    prefix: Path
    site: Path
    csp_map: Path
    tls: Path
    ports: dict[str, int]
    process: subprocess.Popen[bytes] | None = None

    def conf(self) -> Path:
        return self.prefix / "nginx.conf"

    def check(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [NGINX, "-t", "-p", str(self.prefix), "-c", str(self.conf()), "-e", "stderr"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    def start(self) -> None:
        args = [NGINX, "-p", str(self.prefix), "-c", str(self.conf()), "-e", "stderr",
                "-g", "daemon off;"]  # fmt: skip
        log = (self.prefix / "nginx.out").open("ab")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.prefix / "nginx.out").read_text())
            try:
                httpx.get(f"http://127.0.0.1:{self.ports['onion']}/", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start in 20 s")

    def reload(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


def _install(tmp_path: Path, gateway_port: int) -> Nginx:
    """The shipped configuration under a temporary prefix: paths and ports replaced, test
    certificates made, and a main nginx.conf as Debian's would include it."""
    prefix = tmp_path / "nginx"
    (prefix / "sites").mkdir(parents=True)
    (prefix / "logs").mkdir()
    shutil.copytree(DEPLOY / "nginx" / "snippets", prefix / "snippets")
    shutil.copy("/etc/nginx/mime.types", prefix / "mime.types")
    www, tls = tmp_path / "www", tmp_path / "tls"
    www.mkdir()
    tls.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
         "-days", "2", "-keyout", str(tls / "privkey.pem"), "-out", str(tls / "fullchain.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    ports = {"http": free_port(), "https": free_port(), "onion": free_port()}
    nginx = Nginx(prefix, www / "site", www / "csp-map.conf", tls, ports)
    site_conf = (DEPLOY / "nginx" / "lianxin.conf").read_text()
    site_conf = "\n".join(line for line in site_conf.splitlines() if "listen [::]" not in line)
    for old, new in [
        ("listen 80;", f"listen 127.0.0.1:{ports['http']};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{ports['https']} ssl http2;"),
        ("listen 127.0.0.1:8780;", f"listen 127.0.0.1:{ports['onion']};"),
        ("server 127.0.0.1:8700;", f"server 127.0.0.1:{gateway_port};"),
        ("/var/lib/lianxin/www/", f"{www}/"),
        ("/etc/lianxin/tls/", f"{tls}/"),
    ]:
        site_conf = _replace(site_conf, old, new)
    (prefix / "sites" / "lianxin.conf").write_text(site_conf)
    snippet = prefix / "snippets" / "lianxin-site.conf"
    text = _replace(snippet.read_text(), "/var/lib/lianxin/www/site", str(www / "site"))
    text = _replace(text, "/var/log/nginx/lianxin-error.log", str(prefix / "logs/lianxin.log"))
    snippet.write_text(text)
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                             "uwsgi", "scgi")
    )  # fmt: skip
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the pytest folder
    nginx.conf().write_text(
        f"{user}worker_processes 1;\npid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'logs/error.log'} warn;\n"
        "events { worker_connections 128; }\n"
        "http {\n    include mime.types;\n    default_type application/octet-stream;\n"
        f"{temp}\n    include sites/lianxin.conf;\n}}\n"
    )
    return nginx


@pytest.fixture
def nginx_factory(tmp_path: Path) -> Iterator[Callable[[int], Nginx]]:
    started: list[Nginx] = []

    def make(gateway_port: int) -> Nginx:
        nginx = _install(tmp_path, gateway_port)
        started.append(nginx)
        return nginx

    yield make
    for nginx in started:
        nginx.stop()


def test_nginx_configuration_is_valid(nginx_factory: Callable[[int], Nginx]) -> None:
    nginx = nginx_factory(free_port())
    result = nginx.check()  # before any build: no policy map yet, the include is optional
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    nginx.csp_map.write_text('"/index.html" "default-src \'none\'";\n')
    assert nginx.check().returncode == 0
    nginx.csp_map.write_text('"/index.html" broken "policy";\n')  # the check can fail
    assert nginx.check().returncode != 0


def test_the_policy_map_has_every_page_and_refuses_what_nginx_would_misread(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    (site / "en").mkdir(parents=True)
    meta = '<meta http-equiv="Content-Security-Policy" content="{}">'
    (site / "index.html").write_text(meta.format("default-src &#x27;none&#x27;; a &quot;b&quot;"))
    (site / "en" / "page.html").write_text(meta.format("script-src 'self'"))
    lines = nginx_csp_map(site).splitlines()[1:]
    assert lines == [
        '"/en/page.html" "script-src \'self\'";',
        '"/index.html" "default-src \'none\'; a \\"b\\"";',
        '"/" "default-src \'none\'; a \\"b\\"";',
    ]
    (site / "en" / "page.html").write_text(meta.format("script-src $x"))
    with pytest.raises(HeaderMapError, match="cannot be written"):
        nginx_csp_map(site)
    (site / "en" / "page.html").write_text("<p>no policy</p>")
    with pytest.raises(HeaderMapError, match="en/page.html: no Content-Security-Policy"):
        write_nginx_csp_map(site, tmp_path / "map.conf")
    assert not (tmp_path / "map.conf").exists()


def _meta_policy(page: str) -> str:
    found = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert found is not None
    return html.unescape(found.group(1))


def _publish(db: Path, keys_dir: Path, nginx: Nginx) -> None:
    origin = f"https://127.0.0.1:{nginx.ports['https']}"
    publish(PublishSettings(db, keys_dir, nginx.site, TODAY, gateway_url=origin))
    write_nginx_csp_map(nginx.site, nginx.csp_map)


@pytest.mark.slow
def test_a_built_site_through_nginx_in_front_of_a_real_gateway(
    tmp_path: Path,
    keys_dir: Path,
    start_gateway: Callable[..., GatewayProcess],
    nginx_factory: Callable[[int], Nginx],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = tmp_path / "lianxin.sqlite"
    gateway = start_gateway(db_path=db)
    nginx = nginx_factory(gateway.port)
    _publish(db, keys_dir, nginx)
    nginx.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(nginx.tls / "fullchain.pem"))  # trust the test CA
    https = f"https://127.0.0.1:{nginx.ports['https']}"
    onion = f"http://127.0.0.1:{nginx.ports['onion']}"

    # a report through nginx's /v1/ to the gateway, with the keys the site publishes
    with GatewayClient(https) as client:
        sent = submit_report(client, load_published_keys(https + "/keys.json"), report_doc("nginx"))
    # the new case's status, built by the command the publish service runs
    built = subprocess.run(
        [sys.executable, "-m", "lianxin_cli", "publish", "--db", str(db), "--keys", str(keys_dir),
         "--out", str(nginx.site), "--today", TODAY.isoformat(), "--gateway-url", https,
         "--nginx-csp", str(nginx.csp_map)],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert "wrote the policies of" in built.stderr
    nginx.reload()

    # the status lookup, as the browser does it: index, one shard, opened locally
    token = Token.parse(sent.token)
    deadline = time.monotonic() + 20
    found = read_status(https, token)
    while found is None and time.monotonic() < deadline:  # until the reload is done
        time.sleep(0.1)
        found = read_status(https, token)
    assert found is not None and found.status["state"] == "received"
    assert read_status(onion, token) == found
    assert read_status(https, Token.generate()) is None

    trust = ssl.create_default_context(cafile=str(nginx.tls / "fullchain.pem"))
    with httpx.Client(verify=trust) as web:
        # every page: the policy of its own <meta>, as a header, and what only a header can say
        policies = page_policies(nginx.site)
        assert len(policies) > 10
        crypto = [uri for uri, policy in policies.items() if "wasm-unsafe-eval" in policy]
        assert crypto and all(https in policies[uri] for uri in crypto)
        for uri in ["/", "/en/", *sorted(policies)[:: max(1, len(policies) // 8)], *crypto]:
            answer = web.get(https + uri)
            assert answer.status_code == 200, uri
            assert answer.headers["content-security-policy"] == (
                _meta_policy(answer.text) + "; frame-ancestors 'none'"
            ), uri
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["referrer-policy"] == "no-referrer"
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["strict-transport-security"].startswith("max-age=")
            assert answer.headers["cache-control"] == "no-cache"
            assert "server" not in answer.headers or "nginx/" not in answer.headers["server"]
        # scripts come as JavaScript, modules included
        scripts = list(nginx.site.rglob("*.mjs"))
        assert scripts
        answer = web.get(https + "/" + scripts[0].relative_to(nginx.site).as_posix())
        assert answer.headers["content-type"].startswith("text/javascript")
        assert web.get(https + "/missing.mjs").status_code == 404
        # caching: the status files are asked for again every time; log tiles never change
        for path in ("/status/index.json", "/status/0.bin"):
            answer = web.get(https + path)
            assert answer.status_code == 200 and answer.headers["cache-control"] == "no-cache"
            assert answer.headers["etag"]
        (nginx.site / "log" / "tile" / "0").mkdir(parents=True, exist_ok=True)
        (nginx.site / "log" / "tile" / "0" / "000").write_bytes(bytes(32))
        (nginx.site / "log" / "checkpoint").write_text("example.org/log\n1\nAA==\n")
        tile = web.get(https + "/log/tile/0/000")
        assert tile.headers["cache-control"] == "public, max-age=31536000, immutable"
        checkpoint = web.get(https + "/log/checkpoint")
        assert checkpoint.headers["cache-control"] == "public, max-age=60"
        # the gateway behind /v1/: its own answers, never cached
        health = web.get(https + "/v1/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert health.headers["cache-control"] == "no-store"
        assert health.headers["x-content-type-options"] == "nosniff"
        assert health.headers["content-security-policy"].startswith("default-src 'none'")
        # plain HTTP: a redirect to the fixed name, whatever the Host header says
        moved = web.get(
            f"http://127.0.0.1:{nginx.ports['http']}/en/", headers={"Host": "evil.example"}
        )
        assert moved.status_code == 301
        assert moved.headers["location"] == f"https://{PORTAL}/en/"
        # the onion's server: the same site and headers, no HSTS (no TLS there)
        answer = web.get(onion + "/")
        assert answer.status_code == 200
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")
        assert "strict-transport-security" not in answer.headers
        assert web.get(onion + "/v1/health").status_code == 200
