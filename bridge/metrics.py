"""Prometheus metrics of one bridge node (scraped per prometheus/prometheus.yml)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server


class NodeMetrics:
    def __init__(self, node_id: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"node": node_id}
        self.rooms = Gauge("kamconf_bridge_rooms", "Rooms with participants on this node",
                           labelnames=["node"], registry=self.registry).labels(**labels)
        self.participants = Gauge("kamconf_bridge_participants", "Participants mixed on this node",
                                  labelnames=["node"], registry=self.registry).labels(**labels)
        self.capacity = Gauge("kamconf_bridge_capacity", "Participants this node accepts",
                              labelnames=["node"], registry=self.registry).labels(**labels)
        self.calls = Counter("kamconf_bridge_calls", "Incoming calls by outcome",
                             labelnames=["node", "outcome"], registry=self.registry)
        self.dropped = Counter("kamconf_bridge_dropped_legs", "Legs hung up for lack of incoming RTP",
                               labelnames=["node"], registry=self.registry).labels(**labels)
        self.node_id = node_id

    def serve(self, address: str, port: int) -> None:
        # prometheus_client serves from its own thread; it only reads these values.
        start_http_server(port, addr=address, registry=self.registry)

    def call(self, outcome: str) -> None:
        self.calls.labels(node=self.node_id, outcome=outcome).inc()
