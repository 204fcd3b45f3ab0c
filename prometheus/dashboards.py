"""Grafana dashboards of kamconf, as code: `python -m prometheus.dashboards` writes
prometheus/dashboards/*.json (reviewed and committed; a test checks they match this file).

Standard library only. Expressions use fixed windows, not Grafana's `$__rate_interval`, so the
end-to-end test (tests/e2e/test_monitoring.py) can evaluate every one of them as written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
WIDTH, HEIGHT = 8, 8  # three panels a row on Grafana's 24-column grid


@dataclass(frozen=True)
class Panel:
    title: str
    exprs: tuple[tuple[str, str], ...]  # (expression, legend)
    unit: str = "short"
    kind: str = "timeseries"  # or "stat", "heatmap"


def quantile(q: float, metric: str, by: str = "le", scale: str = "") -> str:
    return f"histogram_quantile({q}, sum by ({by}) (rate({metric}_bucket[1m]))){scale}"


ROOMS_NOW = (
    Panel("Active rooms", (("sum(kamconf_bridge_rooms)", "rooms"),), kind="stat"),
    Panel("Participants", (("sum(kamconf_bridge_participants)", "participants"),), kind="stat"),
    Panel("Recordings running", (("sum(kamconf_bridge_recordings_active)", "recordings"),), kind="stat"),
    Panel("Rooms by kind", (("sum by (kind) (kamconf_bridge_rooms_by_kind)", "{{kind}}"),)),
    Panel("Participants by kind of room", (("sum by (kind) (kamconf_bridge_participants_by_kind)", "{{kind}}"),)),
    Panel("Participants by node", (("sum by (node) (kamconf_bridge_participants)", "{{node}}"),)),
    Panel("Calls per minute by outcome",
          (("sum by (outcome) (rate(kamconf_bridge_calls_total[1m])) * 60", "{{outcome}}"),), unit="cpm"),
    Panel("Prompts started per minute",
          (("sum by (node) (rate(kamconf_bridge_prompts_played_total[1m])) * 60", "{{node}}"),), unit="cpm"),
    Panel("Media sessions in rtpengine", (('sum(rtpengine_sessions{type="own"})', "sessions"),)),
    Panel("Participants by room", (("sum by (room) (kamconf_bridge_room_participants)", "{{room}}"),)),
    Panel("Talking by room", (("sum by (room) (kamconf_bridge_room_talking)", "{{room}}"),)),
    Panel("Rooms open for", (("max by (room) (kamconf_bridge_room_open_seconds)", "{{room}}"),), unit="s"),
    Panel("Worst leg's MOS by room", (("min by (room) (kamconf_bridge_room_mos_worst)", "{{room}}"),)),
)

CALL_QUALITY = (
    Panel("Estimated MOS (median and worst 10 %)",
          ((quantile(0.5, "kamconf_bridge_leg_mos"), "median"), (quantile(0.1, "kamconf_bridge_leg_mos"), "p10"))),
    Panel("Worst leg's MOS by node", (("min by (node) (kamconf_bridge_leg_mos_worst)", "{{node}}"),)),
    Panel("Legs under MOS 3.5", (("sum(kamconf_bridge_legs_poor_quality)", "legs"),), kind="stat"),
    Panel("Packet loss (p50, p95)",
          ((quantile(0.5, "kamconf_bridge_leg_loss_ratio", scale=" * 100"), "p50"),
           (quantile(0.95, "kamconf_bridge_leg_loss_ratio", scale=" * 100"), "p95")), unit="percent"),
    Panel("Jitter (p50, p95)",
          ((quantile(0.5, "kamconf_bridge_leg_jitter_seconds", scale=" * 1000"), "p50"),
           (quantile(0.95, "kamconf_bridge_leg_jitter_seconds", scale=" * 1000"), "p95")), unit="ms"),
    Panel("Round-trip time (p50, p95)",
          ((quantile(0.5, "kamconf_bridge_leg_rtt_seconds", scale=" * 1000"), "p50"),
           (quantile(0.95, "kamconf_bridge_leg_rtt_seconds", scale=" * 1000"), "p95")), unit="ms"),
    Panel("MOS distribution", (("sum by (le) (increase(kamconf_bridge_leg_mos_bucket[1m]))", "{{le}}"),),
          kind="heatmap"),
    Panel("Legs judged per second", (("sum by (node) (rate(kamconf_bridge_leg_quality_samples_total[1m]))",
                                      "{{node}}"),)),
    Panel("rtpengine packets per second", (("sum by (type) (rate(rtpengine_packets_total[1m]))", "{{type}}"),),
          unit="pps"),
)

CAPACITY = (
    Panel("Bridge load (participants / capacity)",
          (("kamconf_bridge_participants / kamconf_bridge_capacity", "{{node}}"),), unit="percentunit"),
    Panel("Mixer ports used", (("kamconf_bridge_mixer_ports_used / kamconf_bridge_mixer_ports_max", "{{node}}"),),
          unit="percentunit"),
    Panel("Event-loop lag p99", ((quantile(0.99, "kamconf_bridge_loop_lag_seconds", by="node, le", scale=" * 1000"),
                                  "{{node}}"),), unit="ms"),
    Panel("Bridge CPU", (('rate(process_cpu_seconds_total{job="kamconf-bridge"}[1m])', "{{node}} {{instance}}"),),
          unit="percentunit"),
    Panel("rtpengine ports used", (("sum(rtpengine_ports_used) / sum(rtpengine_ports)", "used"),),
          unit="percentunit"),
    Panel("Redis memory", (("redis_memory_used_bytes", "{{instance}}"),), unit="bytes"),
    Panel("Redis clients", (("redis_connected_clients", "{{instance}}"),)),
    Panel("Components answering Prometheus", (('up{job=~"kamconf-.*"}', "{{job}}"),)),
    Panel("Legs hung up for silence per minute",
          (("sum(rate(kamconf_bridge_dropped_legs_total[1m])) * 60", "dropped"),), unit="cpm"),
)

# Kamailio's own statistics are kamailio_<group>_<name>; kamconf's KEMI counters kamailio_sip_* (kemi/metrics.py).
SIP_5XX_RATIO = ('(sum(rate(kamailio_sip_replies_total{class="5xx"}[5m])) or vector(0))'
                 " / sum(rate(kamailio_sip_replies_total[5m]))")
SIP_EDGE = (
    Panel("New calls per second", (("sum(rate(kamailio_dialog_processed_dialogs[1m]))", "calls"),), unit="reqps"),
    Panel("Requests per second by method",
          (("sum by (method) (rate(kamailio_sip_requests_total[1m]))", "{{method}}"),), unit="reqps"),
    Panel("Replies per second by status class",
          (("sum by (class) (rate(kamailio_sip_replies_total[1m]))", "{{class}}"),), unit="reqps"),
    Panel("Share of replies that are 5xx", ((SIP_5XX_RATIO, "5xx"),), unit="percentunit"),
    Panel("Calls and transactions in progress", (("sum(kamailio_dialog_active_dialogs)", "calls (dialogs)"),
                                                 ("sum(kamailio_tmx_active_transactions)", "transactions"))),
    Panel("Next hop's answer to an INVITE (p50, p95)",
          ((quantile(0.5, "kamailio_sip_relay_seconds", scale=" * 1000"), "p50"),
           (quantile(0.95, "kamailio_sip_relay_seconds", scale=" * 1000"), "p95")), unit="ms"),
    Panel("Wrong digest answers per minute", (("sum(rate(kamailio_sip_auth_failures_total[5m])) * 60", "failures"),),
          unit="cpm"),
    Panel("Bans in the last hour by reason", (("sum by (reason) (increase(kamailio_sip_bans_total[1h]))",
                                               "{{reason}}"),)),
    Panel("Requests dropped per minute by reason",
          (("sum by (reason) (rate(kamailio_sip_dropped_total[5m])) * 60", "{{reason}}"),), unit="cpm"),
    Panel("Sources over the flood limit now", (("sum(kamailio_pike_blocked_ips)", "sources"),), kind="stat"),
    Panel("Registered devices", (("sum(kamailio_usrloc_location_contacts)", "contacts"),), kind="stat"),
    Panel("API requests per second by status class",
          (("sum by (status) (rate(kamconf_web_requests_total[1m]))", "{{status}}"),), unit="reqps"),
    Panel("API latency p95 by endpoint",
          ((quantile(0.95, "kamconf_web_request_duration_seconds", by="endpoint, le", scale=" * 1000"),
            "{{endpoint}}"),), unit="ms"),
)

SCHEDULED = (
    Panel("Conferences by state", (("sum by (state) (kamconf_conferences)", "{{state}}"),)),
    Panel("Start attempts in the last hour by outcome",
          (("sum by (outcome) (increase(kamconf_worker_conference_starts_total[1h]))", "{{outcome}}"),)),
    Panel("Start-time calls in the last hour by outcome",
          (("sum by (outcome) (increase(kamconf_bridge_scheduled_rings_total[1h]))", "{{outcome}}"),)),
    Panel("Conferences extended in the last hour",
          (("sum(increase(kamconf_worker_conference_extensions_total[1h]))", "extended"),)),
    Panel("Jobs per minute by outcome",
          (("sum by (outcome) (rate(kamconf_worker_jobs_total[5m])) * 60", "{{outcome}}"),), unit="cpm"),
    Panel("Jobs waiting", (("sum by (kind) (kamconf_worker_queue_jobs)", "{{kind}}"),)),
    Panel("Mails waiting to be sent", (("sum(kamconf_mail_outbox_messages)", "mails"),), kind="stat"),
    Panel("Oldest waiting mail's age", (("max(kamconf_mail_outbox_oldest_age_seconds)", "age"),), unit="s"),
)

DASHBOARDS = {"rooms-now": ("Rooms now", ROOMS_NOW), "call-quality": ("Call quality", CALL_QUALITY),
              "capacity": ("Capacity", CAPACITY), "sip-edge": ("SIP edge", SIP_EDGE),
              "scheduled-conferences": ("Scheduled conferences", SCHEDULED)}


def panel_json(index: int, panel: Panel) -> dict[str, Any]:
    return {
        "id": index + 1, "type": panel.kind, "title": panel.title, "datasource": DATASOURCE,
        "gridPos": {"x": (index % 3) * WIDTH, "y": (index // 3) * HEIGHT, "w": WIDTH, "h": HEIGHT},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "targets": [{"refId": chr(ord("A") + n), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
                    for n, (expr, legend) in enumerate(panel.exprs)],
    }


def dashboard(uid: str, title: str, panels: tuple[Panel, ...]) -> dict[str, Any]:
    return {
        "uid": f"kamconf-{uid}", "title": f"kamconf: {title}", "tags": ["kamconf"], "editable": True,
        "schemaVersion": 39, "refresh": "10s", "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus",
                                 "label": "Prometheus"}]},
        "panels": [panel_json(i, panel) for i, panel in enumerate(panels)],
    }


def rendered() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    return {f"{uid}.json": json.dumps(dashboard(uid, title, panels), indent=2) + "\n"
            for uid, (title, panels) in DASHBOARDS.items()}


def expressions(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expression) of every target of a dashboard's JSON."""
    return [(panel["title"], target["expr"]) for panel in board.get("panels", [])
            for target in panel.get("targets", []) if target.get("expr")]


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, text in rendered().items():
        (HERE / name).write_text(text)
        print(HERE / name)


if __name__ == "__main__":
    main()
