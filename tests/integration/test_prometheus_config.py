"""prometheus/: the configuration, the alert rules and their unit tests pass promtool; the committed
dashboards are what prometheus/dashboards.py makes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import settings
from prometheus import dashboards, monitor

HERE = Path(monitor.__file__).resolve().parent
PROMTOOL = shutil.which("promtool")
THRESHOLD = re.compile(r"(==|!=|>=|<=|>|<)\s*(-?[0-9.]+)\s*$")


def promtool(*args: str) -> str:
    assert PROMTOOL is not None, "promtool missing: stack/setup.sh installs the prometheus package"
    done = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_shipped_configuration_and_rules_check_clean() -> None:
    assert "SUCCESS" in promtool("check", "config", str(HERE / "prometheus.yml"))
    assert "SUCCESS" in promtool("check", "rules", *map(str, sorted((HERE / "rules").glob("*.yml"))))


def test_the_alert_rules_unit_tests_pass() -> None:
    assert "SUCCESS" in promtool("test", "rules", *map(str, sorted((HERE / "rules/tests").glob("*.yml"))))


def test_make_monitor_renders_a_valid_configuration_from_the_settings(tmp_path: Path) -> None:
    config = settings.load(env={"KAMCONF_BRIDGE_METRICS_PORT": "19180", "KAMCONF_REDIS_EXPORTER_PORT": "19121"})
    path = monitor.write_config(config, tmp_path, interval="1s")
    assert "SUCCESS" in promtool("check", "config", str(path))
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in json.loads(path.read_text())[
        "scrape_configs"]}
    assert jobs["kamconf-bridge"] == ["127.0.0.1:19180"] and jobs["kamconf-redis"] == ["127.0.0.1:19121"]
    assert jobs["kamconf-rtpengine"] == [f"127.0.0.1:{config.rtpengine.metrics_port}"]
    assert jobs["kamconf-kamailio"] == [f"127.0.0.1:{config.sip.metrics_port}"]
    assert jobs["kamconf-web"] == [f"127.0.0.1:{config.web.metrics_port}"]
    assert jobs["kamconf-worker"] == [f"127.0.0.1:{config.workers.metrics_port}"]
    shipped = (HERE / "prometheus.yml").read_text()
    assert all(job in shipped for job in jobs), "prometheus/prometheus.yml lacks a job that make monitor has"


def test_every_alert_rule_ends_in_a_threshold_the_end_to_end_test_can_turn_into_bool() -> None:
    text = (HERE / "rules/kamconf.yml").read_text()
    exprs = re.findall(r"expr: >-\n((?:\s{10}.*\n)+)|expr: (.*)\n", text)
    assert exprs
    for folded, single in exprs:
        assert THRESHOLD.search(" ".join((folded or single).split())), folded or single


def test_the_committed_dashboards_are_the_generated_ones() -> None:
    for name, text in dashboards.rendered().items():
        assert (HERE / "dashboards" / name).read_text() == text, f"run python -m prometheus.dashboards ({name})"


def test_every_dashboard_has_panels_with_expressions_and_unique_ids() -> None:
    for name in dashboards.rendered():
        board = json.loads((HERE / "dashboards" / name).read_text())
        assert len(dashboards.expressions(board)) >= len(board["panels"]) >= 6
        assert len({p["id"] for p in board["panels"]}) == len(board["panels"])
