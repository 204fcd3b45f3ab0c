"""Bridge node process: `python -m bridge.main [--node I]` (composition root): this host's node I
of [bridge] nodes (0, the first, by default)."""

from __future__ import annotations

import argparse
import logging
import signal

import settings
from bridge.inbound import Gate
from bridge.metrics import NodeMetrics
from bridge.node import BridgeNode
from store import live


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--node", type=int, default=0)
    config = settings.load()
    bridge = config.bridge.node(parser.parse_args().node)
    metrics = NodeMetrics(bridge.id)
    metrics.serve(bridge.address, bridge.metrics_port)
    queue_client = live.queue_connection(config.redis_url)
    node = BridgeNode(bridge, live.connect(config.redis_url), queue_client, config.var_path / "sounds",
                      config.var_path / "recordings", metrics, proxy=f"{config.sip.address}:{config.sip.port}",
                      cdrs=config.var_path / "cdrs", gate=Gate(config.proxies, settings.read_secret(config)),
                      conferences=config.conferences)

    def stop(*_: object) -> None:
        node.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logging.getLogger("kamconf.bridge").info(
        "node %s on sip:%s:%d, capacity %d", bridge.id, bridge.address, bridge.sip_port, bridge.capacity,
    )
    node.run()


if __name__ == "__main__":
    main()
