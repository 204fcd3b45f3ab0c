"""Bridge node process: `python -m bridge.main` (composition root)."""

from __future__ import annotations

import logging
import signal

import settings
from bridge.inbound import Gate
from bridge.metrics import NodeMetrics
from bridge.node import BridgeNode
from store import live


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = settings.load()
    metrics = NodeMetrics(config.bridge.id)
    metrics.serve(config.bridge.address, config.bridge.metrics_port)
    queue_client = live.queue_connection(config.redis_url)
    node = BridgeNode(config.bridge, live.connect(config.redis_url), queue_client, config.var_path / "sounds",
                      config.var_path / "recordings", metrics, proxy=f"{config.sip.address}:{config.sip.port}",
                      cdrs=config.var_path / "cdrs", gate=Gate(config.proxies, settings.read_secret(config)),
                      conferences=config.conferences)

    def stop(*_: object) -> None:
        node.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logging.getLogger("kamconf.bridge").info(
        "node %s on sip:%s:%d, capacity %d",
        config.bridge.id, config.bridge.address, config.bridge.sip_port, config.bridge.capacity,
    )
    node.run()


if __name__ == "__main__":
    main()
