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


def test_the_installations_caller_id_is_a_number(tmp_path: Path) -> None:
    path = tmp_path / "k.toml"
    path.write_text('[conferences]\ncaller_id = "+74950001000"\n')
    assert config.load(path, env={}).conferences.caller_id == "+74950001000"
    with pytest.raises(config.ConfigError, match="caller_id"):
        config.load(path, env={"KAMCONF_CONFERENCES_CALLER_ID": "main line"})
    assert config.load(path, env={"KAMCONF_CONFERENCES_CONSULT_CALLER_ID": "employee"}).conferences.consult_caller_id \
        == "employee"
    with pytest.raises(config.ConfigError, match="consult_caller_id"):
        config.load(path, env={"KAMCONF_CONFERENCES_CONSULT_CALLER_ID": "boss"})


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError):
        config.load(tmp_path / "nope.toml", env={})


def test_relative_sqlite_url_lives_under_var(tmp_path: Path) -> None:
    path = tmp_path / "k.toml"
    path.write_text(f'var_dir = "{tmp_path}"\n')
    assert config.load(path, env={}).database_url == f"sqlite:///{tmp_path}/kamconf.db"


def test_the_nodes_of_a_host_follow_from_the_first() -> None:
    bridge = config.BridgeConfig(id="bridge-1", sip_port=5080, metrics_port=9180, rtp_port_min=40000,
                                   rtp_port_max=44999, nodes=2)
    first, second = bridge.all_nodes
    assert (first.id, first.sip_port, first.metrics_port, first.rtp_port_min, first.rtp_port_max) == (
        "bridge-1", 5080, 9180, 40000, 42499)
    assert (second.id, second.sip_port, second.metrics_port, second.rtp_port_min, second.rtp_port_max) == (
        "bridge-2", 5081, 9181, 42500, 44999)
    assert second.nodes == 1 and second.capacity == bridge.capacity
    assert [n.id for n in config.BridgeConfig(id="mix", nodes=3).all_nodes] == ["mix", "mix-2", "mix-3"]
    assert config.BridgeConfig().all_nodes == [config.BridgeConfig()]
    with pytest.raises(config.ConfigError, match="no node 2"):
        bridge.node(2)


def test_the_rtpengines_of_a_host_follow_from_the_first() -> None:
    rtpe = config.RtpengineConfig(ng_port=2223, metrics_port=9182, port_min=30000, port_max=34999, instances=2)
    first, second = rtpe.all_instances
    assert (first.ng_port, first.metrics_port, first.port_min, first.port_max) == (2223, 9182, 30000, 32499)
    assert (second.ng_port, second.metrics_port, second.port_min, second.port_max) == (2224, 9183, 32500, 34999)
    with pytest.raises(config.ConfigError, match="no instance 2"):
        rtpe.instance(2)


def test_each_node_and_rtpengine_may_have_an_address_of_its_own(tmp_path: Path) -> None:
    bridge = config.BridgeConfig(nodes=2, node_addresses="127.0.0.10, 127.0.0.11")
    assert [n.address for n in bridge.all_nodes] == ["127.0.0.10", "127.0.0.11"]
    rtpe = config.RtpengineConfig(instances=2, instance_addresses="127.0.0.20,127.0.0.21")
    assert [r.address for r in rtpe.all_instances] == ["127.0.0.20", "127.0.0.21"]
    assert {r.ng_address for r in rtpe.all_instances} == {"127.0.0.1"}  # control stays internal
    with pytest.raises(config.ConfigError, match="names 1 address"):
        config.BridgeConfig(nodes=2, node_addresses="127.0.0.10").node(0)
    path = tmp_path / "k.toml"
    path.write_text(f'var_dir = "{tmp_path}"\n[bridge]\nnodes = 2\nnode_addresses = "127.0.0.10,bridge-two"\n')
    with pytest.raises(config.ConfigError, match="'bridge-two' is not an IP address"):
        config.load(path, env={})


def test_with_replicas_every_component_finds_the_master_through_the_sentinels(tmp_path: Path) -> None:
    from store.live import sentinel_address

    path = tmp_path / "k.toml"
    path.write_text(f'var_dir = "{tmp_path}"\n[redis]\nreplicas = 1\nsentinel_port = 26000\n')
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "redis.pass").write_text("p@ss/word\n")
    cfg = config.load(path, env={})
    assert cfg.redis_url == "redis+sentinel://:p%40ss%2Fword@127.0.0.1:26000,127.0.0.1:26001,127.0.0.1:26002/kamconf/0"
    assert "word" not in cfg.redis_shown
    where = sentinel_address(cfg.redis_url)
    assert where.sentinels == [("127.0.0.1", 26000), ("127.0.0.1", 26001), ("127.0.0.1", 26002)]
    assert (where.master, where.db, where.password) == ("kamconf", 0, "p@ss/word")
    assert config.Config().redis_url.startswith("redis://127.0.0.1:6399/")


def test_ports_that_meet_on_one_address_are_refused(tmp_path: Path) -> None:
    assert config.port_clashes(config.Config()) == []
    path = tmp_path / "k.toml"
    path.write_text("[rtpengine]\ninstances = 2\nmetrics_port = 9182\n[sip]\nmetrics_port = 9183\n")
    with pytest.raises(config.ConfigError, match=r"sip metrics_port and rtpengine 2 metrics_port \(127.0.0.1:9183\)"):
        config.load(path, env={})
    path.write_text("[bridge]\nrtp_port_min = 30500\nrtp_port_max = 30999\n")  # inside rtpengine's range
    with pytest.raises(config.ConfigError, match="rtpengine 1 media ports and bridge-1 media ports"):
        config.load(path, env={})
    path.write_text('[bridge]\naddress = "10.0.0.2"\nrtp_port_min = 30500\nrtp_port_max = 30999\ncapacity = 200\n')
    assert config.load(path, env={}).bridge.address == "10.0.0.2"  # another host: no clash


@pytest.mark.parametrize("settings, error", [
    ("capacity = 0", "capacity must be 1-2032"),
    ("capacity = 2033", "capacity must be 1-2032"),
    ("capacity = 2032\nrtp_port_max = 43999", "capacity 2032 needs 4096 RTP ports a node; .* its 1 node\\(s\\) 4000"),
    ("capacity = 1000\nnodes = 4", "capacity 1000 needs 2032 RTP ports a node; .* its 4 node\\(s\\) 1250"),
])
def test_a_capacity_the_node_cannot_take_is_refused(tmp_path: Path, settings: str, error: str) -> None:
    path = tmp_path / "k.toml"
    path.write_text(f"[bridge]\n{settings}\n")
    with pytest.raises(config.ConfigError, match=error):
        config.load(path, env={})


@pytest.mark.parametrize("settings", ["capacity = 2000",
                                      "capacity = 1000\nnodes = 2", "capacity = 2032"])
def test_a_capacity_within_the_build_and_the_ports_is_taken(tmp_path: Path, settings: str) -> None:
    path = tmp_path / "k.toml"
    path.write_text(f"[bridge]\n{settings}\n")
    assert config.load(path, env={}).bridge.capacity in (1000, 2000, 2032)
