"""kemi.accounting: the call records of calls Kamailio relays itself, through the routes that make them."""

from __future__ import annotations

from kemi import accounting, routes
from tests.unit.fake_ksr import FakeKSR
from tests.unit.test_kemi_routes import NOW, initial, route

Records = list[dict[str, object]]


def relayed(pv: dict[str, object]) -> FakeKSR:
    ksr = initial(pv)
    route(ksr)
    assert ksr.called("tm.t_relay") == [()]
    return ksr


def test_an_extensions_answered_call_is_billed_to_it_from_answer_to_end() -> None:
    ksr = relayed({"$fU": "100", "$rU": "101", "$ci": "call-abc"})
    routes.reply_with_media(ksr, clock=lambda: NOW + 2)  # 200 OK
    routes.reply_with_media(ksr, clock=lambda: NOW + 3)  # its retransmission: the answer stays
    filed: Records = []
    accounting.event(ksr, "dialog:start", filed.append, NOW + 5)
    assert filed == []
    accounting.event(ksr, "dialog:end", filed.append, NOW + 62)
    [cdr] = filed
    assert {k: cdr[k] for k in ("call", "kind", "caller", "callee", "billed_to", "node", "status", "disposition",
                                "started_at", "answered_at", "ended_at", "billable_seconds")} == {
        "call": "call-abc", "kind": "relayed", "caller": "100", "callee": "101", "billed_to": "100",
        "node": "kamailio", "status": 200, "disposition": "answered", "started_at": NOW, "answered_at": NOW + 2,
        "ended_at": NOW + 62, "billable_seconds": 60}


def test_an_unanswered_call_is_recorded_by_the_failure_route_with_its_status() -> None:
    filed: Records = []
    for status, disposition in ((486, "busy"), (487, "cancelled"), (480, "no_answer"), (503, "failed")):
        ksr = relayed({"$fU": "100", "$rU": "84951234567"})
        ksr.pv.sets("$T_reply_code", str(status))
        routes.media_failure(ksr, filed.append, clock=lambda: NOW + 9)
        accounting.event(ksr, "dialog:failed", filed.append, NOW + 9)  # nothing more from the dialog
        assert (filed[-1]["callee"], filed[-1]["status"], filed[-1]["disposition"], filed[-1]["billable_seconds"]) \
            == ("84951234567", status, disposition, 0)
    assert len(filed) == 4 and len({cdr["id"] for cdr in filed}) == 4


def test_a_trunks_call_in_is_nobodys_and_a_bridges_call_is_the_bridges_to_record() -> None:
    ksr = relayed({"$fU": "74957654321", "$rU": "74950000000", "$si": "10.0.0.1", "$sp": 5090})
    routes.reply_with_media(ksr, clock=lambda: NOW)
    filed: Records = []
    accounting.event(ksr, "dialog:end", filed.append, NOW + 1)
    assert [(cdr["caller"], cdr["callee"], cdr["billed_to"]) for cdr in filed] == [("74957654321", "100", "")]
    ksr = relayed({"$fU": "bridge-1", "$rU": "101", "$si": "127.0.0.1", "$sp": 5080})
    routes.reply_with_media(ksr, clock=lambda: NOW)
    accounting.event(ksr, "dialog:end", filed.append, NOW + 1)
    ksr.pv.sets("$T_reply_code", "486")
    routes.media_failure(ksr, filed.append)
    assert ksr.pv.get(accounting.LEG) is None and len(filed) == 1
