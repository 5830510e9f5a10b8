"""packaging/nginx/border-signage.conf on real nginx, in front of a real ``content-server
serve`` with ``CONTENT_SERVER_ACCEL_REDIRECT_PREFIX``: asset bytes come from the asset
store through nginx's internal location, after the server's yes.

The site file is used as shipped, with its placeholders (ports, certificate, asset
folder) replaced, inside a small main config whose pid, logs and temp folders are in
the test's folder, so nginx runs without touching /etc or /var.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from content_server.settings import Settings
from tests.server.content_server_kit import MP4
from tests.server.live_server_kit import LiveServer, serve
from tests.support.mosquitto import free_port, wait_port
from tests.support.pki import Pki
from tests.support.waiting import wait_until

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "packaging" / "nginx" / "border-signage.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SHA = hashlib.sha256(MP4).hexdigest()


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"the site file no longer has {old!r}: update this test"
    return text.replace(old, new)


def site_for_test(
    server_port: int, http: int, https: int, cert: Path, key: Path, assets: Path
) -> str:
    text = SITE.read_text(encoding="utf-8")
    text = _replace(text, "server 127.0.0.1:8000;", f"server 127.0.0.1:{server_port};")
    text = _replace(text, "    listen 80;\n", f"    listen 127.0.0.1:{http};\n")
    text = _replace(text, "    listen [::]:80;\n", "")
    text = _replace(
        text, "    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https} ssl http2;\n"
    )
    text = _replace(text, "    listen [::]:443 ssl http2;\n", "")
    text = _replace(text, "/etc/border-signage/tls/fullchain.pem", str(cert))
    text = _replace(text, "/etc/border-signage/tls/privkey.pem", str(key))
    return _replace(text, "/var/lib/content-server/assets/", f"{assets}/")


def main_config(folder: Path, site: str) -> str:
    # As root nginx's workers would drop to `nobody`, who cannot read pytest's 0700 tmp.
    user = "user root;" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 64; }}
http {{
    default_type application/octet-stream;
    log_format test '$request_uri -> $uri $status $body_bytes_sent';
    access_log {folder}/access.log test;
{temp}
{site}
}}
"""


@dataclass
class Front:
    server: LiveServer
    url: str
    http_url: str
    ca: Path
    folder: Path

    def get(self, path: str, **headers: str) -> requests.Response:
        return requests.get(
            f"{self.url}{path}",
            headers=headers,
            verify=str(self.ca),
            timeout=30,
            allow_redirects=False,
        )

    def access_log(self) -> str:
        log = self.folder / "access.log"
        return log.read_text(encoding="utf-8") if log.exists() else ""


@pytest.fixture
def front(settings: Settings, content_dir: Path, tmp_path: Path) -> Iterator[Front]:
    (tmp_path / "pki").mkdir()
    pki = Pki(tmp_path / "pki", "border-ca")
    cert, key = pki.issue("signage", server=True)
    folder = tmp_path / "nginx"
    folder.mkdir()
    with serve(
        settings, content_dir, CONTENT_SERVER_ACCEL_REDIRECT_PREFIX="/internal-assets/"
    ) as server:
        http, https = free_port(), free_port()
        site = site_for_test(server.port, http, https, cert, key, settings.assets_dir)
        conf = folder / "nginx.conf"
        conf.write_text(main_config(folder, site), encoding="utf-8")
        check = subprocess.run(
            [NGINX, "-t", "-c", str(conf)], capture_output=True, text=True, timeout=60
        )
        assert check.returncode == 0, check.stderr
        proc = subprocess.Popen(
            [NGINX, "-c", str(conf), "-g", "daemon off;"], stderr=(folder / "stderr").open("wb")
        )
        try:
            wait_port(https, timeout=30)
            yield Front(
                server,
                f"https://127.0.0.1:{https}",
                f"http://127.0.0.1:{http}",
                pki.ca_file,
                folder,
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_a_device_gets_the_bytes_from_the_store_through_nginx(front: Front) -> None:
    auth = f"Bearer {front.server.device_token}"
    r = front.get(f"/api/v1/assets/{SHA}", Authorization=auth)
    assert r.status_code == 200, r.text
    assert r.content == MP4
    assert r.headers["etag"] == f'"{SHA}"'
    assert r.headers["content-type"] == "video/mp4"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "x-accel-redirect" not in r.headers
    # nginx sent the file from its internal location, not the server's bytes. It writes
    # the log line once the request is done, which may be just after the client has it.
    line = f"/api/v1/assets/{SHA} -> /internal-assets/{SHA} 200 {len(MP4)}"
    wait_until(
        lambda: line in front.access_log(), what="nginx's access log line", logs=front.access_log
    )


def test_range_is_answered_by_nginx(front: Front) -> None:
    auth = f"Bearer {front.server.device_token}"
    r = front.get(f"/api/v1/assets/{SHA}", Authorization=auth, Range="bytes=100-")
    assert r.status_code == 206
    assert r.content == MP4[100:]
    assert r.headers["content-range"] == f"bytes 100-{len(MP4) - 1}/{len(MP4)}"
    r = front.get(f"/api/v1/assets/{SHA}", Authorization=auth, Range="bytes=0-9")
    assert (r.status_code, r.content) == (206, MP4[:10])
    r = front.get(f"/api/v1/assets/{SHA}", Authorization=auth, **{"If-None-Match": f'"{SHA}"'})
    assert (r.status_code, r.content) == (304, b"")


def test_no_token_or_a_wrong_one_gets_401_and_no_bytes(front: Front) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-device"}):
        r = front.get(f"/api/v1/assets/{SHA}", **headers)
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert MP4[:64] not in r.content
    r = front.get(f"/api/v1/assets/{'0' * 64}", Authorization=f"Bearer {front.server.device_token}")
    assert r.status_code == 404


def test_the_internal_location_is_not_reachable_from_outside(front: Front) -> None:
    # First a positive signal: the asset exists and nginx serves it after a yes.
    auth = f"Bearer {front.server.device_token}"
    assert front.get(f"/api/v1/assets/{SHA}", Authorization=auth).content == MP4
    for headers in ({}, {"Authorization": auth}):
        r = front.get(f"/internal-assets/{SHA}", **headers)
        assert r.status_code == 404
        assert MP4[:64] not in r.content


def test_the_rest_is_proxied_and_plain_http_redirects(front: Front) -> None:
    auth = f"Bearer {front.server.device_token}"
    r = front.get("/api/v1/devices/adot-hall-1/manifest", Authorization=auth)
    assert r.status_code == 200
    assert r.json()["signed"]["device_id"] == "adot-hall-1"
    # The server learns the request came over TLS (HSTS) from nginx's X-Forwarded-Proto.
    assert "max-age" in front.get("/healthz").headers["strict-transport-security"]
    plain = requests.get(f"{front.http_url}/healthz", allow_redirects=False, timeout=30)
    assert plain.status_code == 301
    assert plain.headers["location"].startswith("https://")
