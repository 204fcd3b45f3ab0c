from __future__ import annotations

from typing import Any

import pytest

from conference.placement import NodeStatus
from kemi import routes
from tests.unit.fake_ksr import FakeKSR

NODE_A = NodeStatus("a", "127.0.0.1", 5080, capacity=10, load=3)
NODE_B = NodeStatus("b", "127.0.0.1", 5081, capacity=10, load=1)
ROOM = {"number": "1000"}


class Live:
    def __init__(self, room: dict[str, Any] | None = ROOM, affinity: str | None = None,
                 nodes: list[NodeStatus] | None = None, down: bool = False) -> None:
        self.room, self.affinity, self.down = room, affinity, down
        self.nodes = [NODE_A, NODE_B] if nodes is None else nodes
        self.claims: list[tuple[str, str, str | None]] = []

    def room_and_affinity(self, number: str) -> tuple[dict[str, Any] | None, str | None]:
        if self.down:
            raise routes.LiveStateError("connection refused")
        return self.room, self.affinity

    def live_nodes(self) -> list[NodeStatus]:
        return self.nodes

    def claim_affinity(self, number: str, node_id: str, previous: str | None) -> str:
        self.claims.append((number, node_id, previous))
        return node_id


def initial(**pv: Any) -> FakeKSR:
    # an initial request: no To tag, not a retransmission, new transaction
    return FakeKSR(pv, {"siputils.has_totag": -1, "tmx.t_precheck_trans": -1, "tm.t_check_trans": -1,
                        "textops.has_body_type": 1})


def test_invite_to_a_room_is_anchored_and_relayed_to_the_least_loaded_node() -> None:
    ksr, live = initial(), Live()
    routes.request_route(ksr, live)
    assert ksr.called("rtpengine.rtpengine_offer") == [(routes.media.OFFER_FLAGS,)]
    assert ksr.called("setdsturi") == [("sip:127.0.0.1:5081",)]
    assert ksr.called("rr.record_route") == [()]
    assert ksr.called("tm.t_on_reply") == [(routes.ROOM_REPLY_ROUTE,)]
    assert ksr.called("tm.t_on_failure") == [(routes.ROOM_FAILURE_ROUTE,)]
    assert ksr.called("tm.t_relay") == [()]
    assert live.claims == [("1000", "b", None)]


def test_a_room_follows_its_affinity_even_to_the_busier_node() -> None:
    ksr, live = initial(), Live(affinity="a")
    routes.request_route(ksr, live)
    assert ksr.called("setdsturi") == [("sip:127.0.0.1:5080",)]
    assert live.claims == []


def test_affinity_to_a_dead_node_is_replaced() -> None:
    ksr, live = initial(), Live(affinity="gone")
    routes.request_route(ksr, live)
    assert live.claims == [("1000", "b", "gone")]


@pytest.mark.parametrize("user", ["9999", "abc", None, ""])
def test_unknown_numbers_get_404(user: str | None) -> None:
    ksr = initial(**{"$rU": user})
    routes.request_route(ksr, Live(room=None))
    assert ksr.replies() == [404]
    assert not ksr.called("tm.t_relay")


def test_redis_unavailable_answers_503_with_retry_after() -> None:
    ksr = initial()
    routes.request_route(ksr, Live(down=True))
    assert ksr.replies() == [503]
    assert ksr.called("hdr.append") == [("Retry-After: 5\r\n",)]


def test_no_live_node_answers_503() -> None:
    ksr = initial()
    routes.request_route(ksr, Live(nodes=[]))
    assert ksr.replies() == [503]


def test_failed_offer_answers_503_and_does_not_relay() -> None:
    ksr = FakeKSR(results={"siputils.has_totag": -1, "tmx.t_precheck_trans": -1, "tm.t_check_trans": -1,
                           "rtpengine.rtpengine_offer": -1})
    routes.request_route(ksr, Live())
    assert ksr.replies() == [503]
    assert not ksr.called("tm.t_relay")


def test_too_many_hops_gets_483() -> None:
    ksr = FakeKSR(results={"maxfwd.process_maxfwd": -1})
    routes.request_route(ksr, Live())
    assert ksr.replies() == [483]


def test_malformed_request_stops_after_sanity() -> None:
    ksr = FakeKSR(results={"sanity.sanity_check": -1})
    routes.request_route(ksr, Live())
    assert not ksr.called("tm.t_relay")
    assert ksr.replies() == []  # sanity itself answered 400


def test_options_is_answered() -> None:
    ksr = initial(**{"$rm": "OPTIONS", "$rU": None})
    routes.request_route(ksr, Live())
    assert ksr.replies() == [200]


def test_other_methods_outside_a_dialog_get_405() -> None:
    ksr = initial(**{"$rm": "MESSAGE"})
    routes.request_route(ksr, Live())
    assert ksr.replies() == [405]


def test_cancel_is_relayed_when_its_transaction_exists() -> None:
    ksr = FakeKSR({"$rm": "CANCEL"}, {"tm.t_check_trans": 1})
    routes.request_route(ksr, Live())
    assert ksr.called("tm.t_relay") == [()]


def test_bye_in_dialog_releases_media_and_follows_record_route() -> None:
    ksr = FakeKSR({"$rm": "BYE"}, {"siputils.has_totag": 1, "rr.loose_route": 1})
    routes.request_route(ksr, Live())
    assert ksr.called("rtpengine.rtpengine_delete0") == [()]
    assert ksr.called("tm.t_relay") == [()]


def test_reinvite_reoffers_media_but_a_failure_keeps_the_session() -> None:
    ksr = FakeKSR({"$rm": "INVITE"}, {"siputils.has_totag": 1, "rr.loose_route": 1})
    routes.request_route(ksr, Live())
    assert ksr.called("rtpengine.rtpengine_offer")
    assert not ksr.called("tm.t_on_failure")


def test_in_dialog_request_without_route_gets_404() -> None:
    ksr = FakeKSR({"$rm": "INFO"}, {"siputils.has_totag": 1, "rr.loose_route": -1})
    routes.request_route(ksr, Live())
    assert ksr.replies() == [404]


def test_answer_with_sdp_completes_the_anchor() -> None:
    ksr = FakeKSR({"$rs": 200})
    routes.reply_from_room(ksr)
    assert ksr.called("rtpengine.rtpengine_answer") == [(routes.media.ANSWER_FLAGS,)]


def test_trying_does_not_touch_media() -> None:
    ksr = FakeKSR({"$rs": 100})
    routes.reply_from_room(ksr)
    assert not ksr.called("rtpengine.rtpengine_answer")


def test_failure_releases_media() -> None:
    ksr = FakeKSR()
    routes.room_failure(ksr)
    assert ksr.called("rtpengine.rtpengine_delete0") == [()]
