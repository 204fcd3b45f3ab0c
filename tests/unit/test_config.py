from __future__ import annotations

from pathlib import Path

import pytest

import settings as config


def test_defaults_match_the_documented_contract() -> None:
    cfg = config.Config()
    assert (cfg.sip.address, cfg.sip.port) == ("127.0.0.1", 5060)
    assert (cfg.web.address, cfg.web.port) == ("127.0.0.1", 8080)


def test_committed_file_states_the_defaults() -> None:
    assert config.load(config.DEFAULT_FILE, env={}) == config.Config()


def test_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "k.toml"
    path.write_text('[sip]\nport = 5070\n[bridge]\ncapacity = 20\n')
    cfg = config.load(path, env={"KAMCONF_BRIDGE_CAPACITY": "30", "KAMCONF_WEB_PORT": "9000"})
    assert cfg.sip.port == 5070
    assert cfg.bridge.capacity == 30
    assert cfg.web.port == 9000


def test_unknown_setting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.toml"
    path.write_text("[sip]\nprot = 5070\n")
    with pytest.raises(config.ConfigError, match="prot"):
        config.load(path, env={})


def test_wrong_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match="KAMCONF_SIP_PORT"):
        config.load(env={"KAMCONF_SIP_PORT": "five"}, path=config.DEFAULT_FILE)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError):
        config.load(tmp_path / "nope.toml", env={})


def test_relative_sqlite_url_lives_under_var(tmp_path: Path) -> None:
    path = tmp_path / "k.toml"
    path.write_text(f'var_dir = "{tmp_path}"\n')
    assert config.load(path, env={}).database_url == f"sqlite:///{tmp_path}/kamconf.db"
