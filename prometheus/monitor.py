"""`make monitor`: Debian's prometheus, on loopback, scraping the running stack with kamconf's rules.

The scrape targets come from the stack's own settings (kamconf.toml or $KAMCONF_CONFIG), so the
same jobs as prometheus/prometheus.yml reach whatever ports the stack uses. The configuration is
written as JSON, which is YAML too. The end-to-end test starts its Prometheus through here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import settings
from settings import Config

HERE = Path(__file__).resolve().parent
RULES = HERE / "rules"
DEFAULT_PORT = 9090


def targets(config: Config) -> dict[str, list[str]]:
    """Scrape job -> the addresses of its /metrics, per component of the stack (a bridge per node)."""
    return {
        "kamconf-bridge": [f"{node.address}:{node.metrics_port}" for node in config.bridge.all_nodes],
        "kamconf-rtpengine": [f"{r.address}:{r.metrics_port}" for r in config.rtpengine.all_instances],
        "kamconf-redis": [f"{config.redis.address}:{config.redis.exporter_port}"],
        "kamconf-kamailio": [f"{config.sip.address}:{config.sip.metrics_port}"],
        "kamconf-web": [f"{config.web.address}:{config.web.metrics_port}"],
        "kamconf-worker": [f"{config.workers.address}:{config.workers.metrics_port}"],
    }


def prometheus_config(config: Config, interval: str = "15s") -> dict[str, Any]:
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(RULES / "*.yml")],
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": addresses}]}
                           for job, addresses in targets(config).items()],
    }


def write_config(config: Config, directory: Path, interval: str = "15s") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "prometheus.yml"
    path.write_text(json.dumps(prometheus_config(config, interval), indent=2) + "\n")
    return path


def command(config_file: Path, data: Path, address: str, port: int) -> list[str]:
    return ["prometheus", f"--config.file={config_file}", f"--storage.tsdb.path={data}",
            f"--web.listen-address={address}:{port}", "--storage.tsdb.retention.time=7d", "--log.level=warn"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("KAMCONF_MONITOR_PORT", DEFAULT_PORT)))
    args = parser.parse_args()
    config = settings.load()
    directory = config.var_path / "prometheus"
    config_file = write_config(config, directory)
    address = "127.0.0.1"  # loopback only: Prometheus' own page has no login
    print(f"kamconf: Prometheus on http://{address}:{args.port} scraping "
          + ", ".join(f"{job} {' '.join(where)}" for job, where in targets(config).items()), flush=True)
    try:
        sys.exit(subprocess.call(command(config_file, directory / "data", address, args.port)))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
