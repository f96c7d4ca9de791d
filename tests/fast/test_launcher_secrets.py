"""The launcher's secrets: the first admin's password is generated once, kept in secrets.env
(mode 600), announced only by the run that made it, and given to metadata_ms alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.stack.config import load_config, write_private
from scripts.stack.info import read_env_file
from scripts.stack.parts.services import metadata_env, service_env


@pytest.fixture(autouse=True)
def no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LIFTBIT_ADMIN_USER", "LIFTBIT_ADMIN_PASSWORD", "LIFTBIT_PORT_BASE", "PORT"):
        monkeypatch.delenv(name, raising=False)


def test_the_admin_password_is_made_once_and_announced_once(tmp_path: Path) -> None:
    first = load_config(tmp_path, keep_recorded_ports=False)
    password = first.secrets["LIFTBIT_ADMIN_PASSWORD"]
    assert first.new_admin_password
    assert len(password) >= 20
    assert read_env_file(tmp_path / "secrets.env")["LIFTBIT_ADMIN_PASSWORD"] == password
    assert (tmp_path / "secrets.env").stat().st_mode & 0o777 == 0o600
    again = load_config(tmp_path, keep_recorded_ports=False)
    assert (again.new_admin_password, again.secrets["LIFTBIT_ADMIN_PASSWORD"]) == (False, password)
    assert again.admin_user == "admin"


def test_a_home_from_before_admins_gets_one_and_keeps_its_other_secrets(tmp_path: Path) -> None:
    old = {"POSTGRES_PASSWORD": "p", "S3_KEY_ID": "k", "S3_KEY_SECRET": "s", "INTERNAL_TOKEN": "t"}
    write_private(tmp_path / "secrets.env", "".join(f"{k}={v}\n" for k, v in old.items()))
    config = load_config(tmp_path, keep_recorded_ports=False)
    assert config.new_admin_password
    assert {k: config.secrets[k] for k in old} == old
    assert read_env_file(tmp_path / "secrets.env").keys() == old.keys() | {"LIFTBIT_ADMIN_PASSWORD"}


def test_only_metadata_ms_gets_the_admin_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFTBIT_ADMIN_PASSWORD", "from the shell")  # secrets.env wins, the shell's never recorded
    monkeypatch.setenv("LIFTBIT_ADMIN_USER", "boss")
    config = load_config(tmp_path, keep_recorded_ports=False)
    assert "LIFTBIT_ADMIN_PASSWORD" not in config.settings
    assert config.admin_user == "boss"
    assert metadata_env(config)["LIFTBIT_ADMIN_PASSWORD"] == config.secrets["LIFTBIT_ADMIN_PASSWORD"]
    assert metadata_env(config)["LIFTBIT_ADMIN_USER"] == "boss"
    assert "LIFTBIT_ADMIN_PASSWORD" not in service_env(config)
