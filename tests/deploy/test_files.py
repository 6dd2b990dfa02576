"""The files of ``deploy/`` agree with the application and with each other: the environment
template names every setting and makes a valid production configuration, nginx's body limit
is the application's upload limit, the unit serves where nginx proxies to, and the whole site
file — its TLS server included — is a configuration nginx accepts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from app.config import ROOT, Settings
from tests.deploy.nginx import MIME_TYPES, SHIPPED_LOGS, SITE, nginx_conf, nginx_or_skip

DEPLOY = ROOT / "deploy"
ENV_EXAMPLE = DEPLOY / "integritas.env.example"
UNIT = DEPLOY / "systemd" / "integritas.service"
NOT_SETTINGS = {"APP_DEBUG"}  # read by the command line itself, not a Settings field


def env_example(include_commented: bool = False) -> dict[str, str]:
    """KEY=value of the template (and of its commented-out lines, if asked)."""
    pattern = r"^(?:# ?)?(APP_[A-Z_]+)=(.*)$" if include_commented else r"^(APP_[A-Z_]+)=(.*)$"
    return dict(re.findall(pattern, ENV_EXAMPLE.read_text(), re.MULTILINE))


def unit_values(key: str) -> list[str]:
    return re.findall(rf"^{key}=(.*)$", UNIT.read_text(), re.MULTILINE)


def test_the_environment_template_names_every_setting_and_is_a_valid_production_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fields = {f"APP_{name.upper()}" for name in Settings.model_fields}
    named = set(env_example(include_commented=True)) - NOT_SETTINGS
    assert named == fields, (
        f"missing: {sorted(fields - named)}; not settings: {sorted(named - fields)}"
    )
    values = env_example()
    for key in [k for k in os.environ if k.startswith("APP_")]:
        monkeypatch.delenv(key)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.production
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.trusted_proxies == "127.0.0.1"
    assert len(settings.secret()) >= 32
    assert str(settings.data_dir) in unit_values("ReadWritePaths")[0].split()
    assert settings.data_dir == Path("/var/lib/") / unit_values("StateDirectory")[0]


def test_nginx_takes_the_bodies_the_application_takes() -> None:
    size = re.search(r"^\s*client_max_body_size (\d+)([km]?);", SITE.read_text(), re.MULTILINE)
    assert size, "client_max_body_size is not set"
    limit = int(size[1]) * {"": 1, "k": 1024, "m": 1024 * 1024}[size[2]]
    assert limit == Settings.model_fields["max_upload_bytes"].default
    assert limit == int(env_example()["APP_MAX_UPLOAD_BYTES"])


def test_the_unit_serves_where_nginx_proxies_to() -> None:
    (command,) = unit_values("ExecStart")
    served = re.fullmatch(
        r"(\S+)/bin/integritas serve --host (\S+) --port (\d+) --workers (\d+)", command
    )
    assert served, command
    upstream = re.search(r"upstream integritas \{\s*server ([^;\s]+);", SITE.read_text())
    assert upstream and upstream[1] == f"{served[2]}:{served[3]}"
    assert served[2] == "127.0.0.1" and int(served[4]) >= 2
    assert unit_values("EnvironmentFile") == ["/etc/integritas/integritas.env"]
    assert unit_values("User") == ["integritas"] and unit_values("Restart") == ["on-failure"]
    for hardening in ("NoNewPrivileges=true", "ProtectSystem=strict", "PrivateTmp=true"):
        assert f"\n{hardening}\n" in UNIT.read_text()


def test_the_whole_site_file_is_a_configuration_nginx_accepts(tmp_path: Path) -> None:
    """``nginx -t`` over the file as shipped, with a self-signed certificate in the places of
    the real one and the log folder in tmp."""
    binary = nginx_or_skip()
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed (it makes the test certificate)")
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=belajar.example.go.id", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = SITE.read_text()
    live = "/etc/letsencrypt/live/belajar.example.go.id/"
    assert site.count(live) == 2
    site = site.replace(live + "fullchain.pem", str(cert)).replace(live + "privkey.pem", str(key))
    site = site.replace(SHIPPED_LOGS, f"{tmp_path}/")
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_conf(site, tmp_path))
    assert MIME_TYPES.exists()
    checked = subprocess.run(
        [binary, "-p", f"{tmp_path}/", "-c", str(conf), "-e", str(tmp_path / "error.log"), "-t"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr
