"""kemi applying conference.anchoring: which dialogs skip rtpengine, and that a dialog keeps its
choice for its answer, re-INVITEs, late answers and its end."""

from __future__ import annotations

import dataclasses
from typing import Any

from conference.extensions import ExtensionSettings, ha1
from kemi import dialogs, media, routes
from tests.unit.fake_ksr import FakeKSR
from tests.unit.test_kemi_routes import CARRIER, REALM, TO_THE_CALLEE, Live, initial, route

DIRECT_EXT = ExtensionSettings("104", ha1("104", REALM, "password104"), direct_media=True)
ANCHORED_EXT = ExtensionSettings("105", ha1("105", REALM, "password105"))
DIRECT_CARRIER = dataclasses.replace(CARRIER, direct_media=True)


class Phones(Live):
    def extension(self, number: str) -> ExtensionSettings | None:
        return {"104": DIRECT_EXT, "105": ANCHORED_EXT}.get(number) or super().extension(number)


def offer(address: str = "127.0.0.1", proto: str = "RTP/AVP", *extra: str) -> dict[str, Any]:
    body = "\r\n".join(["v=0", f"o=- 1 1 IN IP4 {address}", "s=-", f"c=IN IP4 {address}", "t=0 0",
                        f"m=audio 4000 {proto} 0 8", *extra, ""])
    return {"$cT": "application/sdp", "$rb": body}


def call(pv: dict[str, Any], live: Live | None = None) -> FakeKSR:
    ksr = initial(pv)
    route(ksr, live or Phones(trunks=(DIRECT_CARRIER,)))
    assert ksr.called("tm.t_relay") == [()], ksr.calls
    return ksr


def direct(ksr: FakeKSR) -> bool:
    marked = ksr.pv.get(media.DIRECT_DIALOG) == media.DIRECT
    assert marked == (ksr.pv.get(media.DIRECT_PENDING) == media.DIRECT)
    assert marked != bool(ksr.called("rtpengine.rtpengine_offer"))  # never both, never neither
    return marked


def test_a_direct_media_extension_calling_a_room_skips_rtpengine() -> None:
    assert direct(call({"$fU": "104", "$rU": "1000", **offer()}))


def test_an_extension_without_it_and_anonymous_callers_stay_anchored() -> None:
    assert not direct(call({"$fU": "105", "$rU": "1000", **offer()}))
    assert not direct(call({"$fU": "stranger", "$rU": "1000", **offer()}))


def test_a_direct_extensions_srtp_multipart_nat_or_tls_call_stays_anchored() -> None:
    assert not direct(call({"$fU": "104", "$rU": "1000", **offer("127.0.0.1", "RTP/SAVP")}))
    assert not direct(call({"$fU": "104", "$rU": "1000", **offer(), "$cT": "multipart/mixed;boundary=x"}))
    assert not direct(call({"$fU": "104", "$rU": "1000", **offer("192.168.0.7"), "$si": "81.200.1.7"}))
    assert not direct(call({"$fU": "104", "$rU": "1000", **offer(), "$pr": "tls"}))
    assert not direct(call({"$fU": "104", "$rU": "1000"}))  # late offer: nothing to judge


def test_a_direct_trunks_call_to_a_room_skips_rtpengine() -> None:
    assert direct(call({"$fU": "x", "$rU": "74951000000", "$si": "10.0.0.1", "$sp": 5090, **offer("10.0.0.9")}))
    assert not direct(call({"$fU": "x", "$rU": "74951000000", "$si": "10.0.0.1", "$sp": 5090, **offer("10.0.0.9")},
                           Phones()))


BRIDGE = {"$fU": "bridge-1", "$si": "127.0.0.1", "$sp": 5080}


def test_the_bridges_calls_to_direct_extensions_and_trunks_skip_rtpengine() -> None:
    assert direct(call({**BRIDGE, "$rU": "104", **offer()}))
    assert not direct(call({**BRIDGE, "$rU": "105", **offer()}))
    assert direct(call({**BRIDGE, "$rU": "84951234567", **offer()}))
    assert not direct(call({**BRIDGE, "$rU": "84951234567", **offer()}, Phones()))
    # A callee reached over TLS gets SRTP from rtpengine.
    assert not direct(call({**BRIDGE, "$rU": "104", **offer(), "$ru": "sip:104@192.0.2.7:5061;transport=tls"}))


def test_calls_between_phones_and_trunks_are_anchored_whatever_their_setting() -> None:
    """Only a bridge node's legs may skip rtpengine: a call Kamailio relays between two parties keeps it."""
    assert not direct(call({"$fU": "104", "$rU": "84951234567", **offer()}))
    assert not direct(call({"$fU": "x", "$rU": "74950000000", "$si": "10.0.0.1", "$sp": 5090, **offer("10.0.0.9")}))


DIRECT_DIALOG = {media.DIRECT_DIALOG: media.DIRECT}


def test_a_direct_dialog_never_asks_rtpengine_again() -> None:
    for method in ("INVITE", "ACK", "BYE"):
        ksr = FakeKSR({"$rm": method, **TO_THE_CALLEE, **DIRECT_DIALOG},
                      {"siputils.has_totag": 1, "rr.loose_route": 1, "textops.has_body_type": 1})
        route(ksr)
        assert ksr.called("tm.t_relay") == [()]
        assert not [name for name, _ in ksr.calls if name.startswith("rtpengine.")], (method, ksr.calls)
    answer = FakeKSR({"$rs": 200, **DIRECT_DIALOG}, {"textops.has_body_type": 1})
    routes.reply_with_media(answer)
    failure = FakeKSR({media.DIRECT_PENDING: media.DIRECT})
    routes.media_failure(failure)
    assert not [name for ksr in (answer, failure) for name, _ in ksr.calls if name.startswith("rtpengine.")]


def test_an_anchored_dialog_keeps_rtpengine_for_all_of_it() -> None:
    ksr = FakeKSR({"$rm": "INVITE", **TO_THE_CALLEE}, {"siputils.has_totag": 1, "rr.loose_route": 1,
                                                        "textops.has_body_type": 1})
    route(ksr)
    assert ksr.called("rtpengine.rtpengine_offer")
    answer = FakeKSR({"$rs": 200}, {"textops.has_body_type": 1})
    routes.reply_with_media(answer)
    assert answer.called("rtpengine.rtpengine_answer")



def test_the_judged_caller_is_marked_only_on_calls_into_the_bridge() -> None:
    assert call({"$fU": "104", "$rU": "1000", **offer()}).pv.get(media.JUDGED) == "extension"
    assert call({"$fU": "x", "$rU": "74951000000", "$si": "10.0.0.1", "$sp": 5090,
                 **offer("10.0.0.9")}).pv.get(media.JUDGED) == "trunk"
    assert call({**BRIDGE, "$rU": "104", **offer()}).pv.get(media.JUDGED) is None  # the node's own offer


JUDGED_DIALOG = {**TO_THE_CALLEE, **DIRECT_DIALOG, media.JUDGED: "extension"}


def in_dialog(method: str, pv: dict[str, Any]) -> FakeKSR:
    ksr = FakeKSR({"$rm": method, **JUDGED_DIALOG, **pv},
                  {"siputils.has_totag": 1, "rr.loose_route": 1, "textops.has_body_type": 1})
    route(ksr)
    assert not [name for name, _ in ksr.calls if name.startswith("rtpengine.")], ksr.calls
    return ksr


def test_a_direct_callers_reinvite_may_hold_and_resume_but_not_move_its_stream_elsewhere() -> None:
    for body in (offer(), offer("0.0.0.0")):
        assert in_dialog("INVITE", body).called("tm.t_relay") == [()]
    for body in (offer("192.0.2.66"), offer("127.0.0.1", "RTP/SAVP"), {**offer(), "$cT": "multipart/mixed"}):
        refused = in_dialog("INVITE", body)
        assert refused.replies() == [488] and not refused.called("tm.t_relay")
    dropped = in_dialog("ACK", offer("192.0.2.66"))  # a late answer: an ACK is never answered, only not relayed
    assert dropped.replies() == [] and not dropped.called("tm.t_relay")


def test_the_bridges_own_reinvites_in_a_direct_call_are_not_judged() -> None:
    """The node's offers name its own media address: only the caller that was judged is judged again."""
    ksr = in_dialog("INVITE", {**offer("192.0.2.66"), "$ft": "node-tag", dialogs.CALLER_HOSTS: "127.0.0.1:5062",
                               dialogs.REQUEST_URI[0]: "127.0.0.1", dialogs.REQUEST_URI[1]: "5062"})
    assert ksr.called("tm.t_relay") == [()]
