from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from conference import address, vouch
from conference.extensions import ExtensionSettings, Presentation, TrunkSettings, ha1
from conference.placement import NodeStatus
from kemi import dialogs, routes
from tests.unit.fake_ksr import FakeKSR

NODE_A = NodeStatus("a", "127.0.0.1", 5080, capacity=10, load=3)
NODE_B = NodeStatus("b", "127.0.0.1", 5081, capacity=10, load=1)
REALM = "kamconf"
EXT_100 = ExtensionSettings("100", ha1("100", REALM, "password100"), display_name="Anna")
EXT_101 = ExtensionSettings("101", ha1("101", REALM, "password101"), external_calls=False)
EXT_102 = ExtensionSettings("102", ha1("102", REALM, "password102"), consult_merge=True)
EXT_103 = ExtensionSettings("103", ha1("103", REALM, "password103"), forward_to="84951234567")
MENU = "700"
CARRIER = TrunkSettings("carrier", "10.0.0.1:5090", ("10.0.0.1:5090",), ("8",),
                        {"74950000000": "100", "74951000000": "1000"})


class Live:
    def __init__(self, rooms: tuple[str, ...] = ("1000",), affinity: str | None = None,
                 nodes: list[NodeStatus] | None = None, down: bool = False,
                 trunks: tuple[TrunkSettings, ...] = (CARRIER,)) -> None:
        self.rooms, self.affinity_of, self.down, self.trunk_list = rooms, affinity, down, list(trunks)
        self.nodes = [NODE_A, NODE_B] if nodes is None else nodes
        self.claims: list[tuple[str, str, str | None]] = []
        self.reads: list[str] = []
        self.callbacks: list[tuple[str, str, str | None, int]] = []

    def _up(self) -> None:
        if self.down:
            raise routes.LiveStateError("connection refused")

    def is_room(self, number: str) -> bool:
        self._up()
        return number in self.rooms

    def is_menu(self, number: str) -> bool:
        self._up()
        return number == MENU

    def extension(self, number: str) -> ExtensionSettings | None:
        self._up()
        return {"100": EXT_100, "101": EXT_101, "102": EXT_102, "103": EXT_103}.get(number)

    def trunks(self) -> list[TrunkSettings]:
        self._up()
        self.reads.append("trunks")
        return self.trunk_list

    def affinity(self, key: str) -> str | None:
        return self.affinity_of

    def live_nodes(self) -> list[NodeStatus]:
        self._up()
        self.reads.append("nodes")
        return self.nodes

    def claim_affinity(self, key: str, node_id: str, previous: str | None) -> str:
        self.claims.append((key, node_id, previous))
        return node_id

    def request_callback(self, number: str, destination: str, owner: str | None, per_hour: int) -> bool:
        self._up()
        self.callbacks.append((number, destination, owner, per_hour))
        return bool(self.nodes)


def initial(pv: dict[str, Any] | None = None, results: dict[str, Any] | None = None) -> FakeKSR:
    # an initial request: no To tag, not a retransmission, new transaction
    return FakeKSR(pv, {"siputils.has_totag": -1, "tmx.t_precheck_trans": -1, "tm.t_check_trans": -1,
                        "textops.has_body_type": 1, **(results or {})})


SECRET = b"k" * 32
NOW = 1_800_000_000.0
SITE = routes.Site(REALM, SECRET, clock=lambda: NOW)


def route(ksr: FakeKSR, live: Live | None = None) -> None:
    routes.request_route(ksr, live or Live(), SITE)


def told(ksr: FakeKSR, room: str) -> vouch.Vouched | None:
    """What the bridge receiving this request verifies of its identity header."""
    call_id = str(ksr.pv.get("$ci"))
    headers = [args[0] for args in ksr.called("hdr.append") if args[0].startswith(vouch.HEADER + ":")]
    assert len(headers) == 1, headers
    value = headers[0].split(":", 1)[1].strip()
    found = vouch.verify(SECRET, value, call_id, room, NOW)
    assert found is not None and found.source == ksr.pv.get("$si"), found
    return dataclasses.replace(found, source="")


def test_invite_to_a_room_is_anchored_and_relayed_to_the_least_loaded_node() -> None:
    ksr, live = initial(), Live()
    route(ksr, live)
    # An anonymous phone: its media is taken from where its SIP came from, and from nowhere else.
    assert ksr.called("rtpengine.rtpengine_offer") == [(routes.media.OFFER_FLAGS + routes.media.FROM_SIP_SOURCE,)]
    assert "strict-source" in routes.media.OFFER_FLAGS and "strict-source" in routes.media.ANSWER_FLAGS
    assert ksr.called("setdsturi") == [("sip:127.0.0.1:5081",)]
    # The request URI is ours alone: nothing else of what the caller wrote in it reaches the bridge.
    assert ksr.called("seturi") == [("sip:1000@127.0.0.1:5081",)]
    assert ksr.called("rr.record_route") == [()]
    assert ksr.called("tm.t_on_reply") == [(routes.MEDIA_REPLY_ROUTE,)]
    assert ksr.called("tm.t_on_failure") == [(routes.MEDIA_FAILURE_ROUTE,)]
    assert ksr.called("tm.t_relay") == [()]
    assert live.claims == [("1000", "b", None)]
    # The bridge is told who calls, and only by us: headers of ours from the caller are gone, whatever their case.
    assert ksr.called("hdr.remove") == [("Route",)]
    assert ksr.called("textops.remove_hf_re") == [(routes.OUR_HEADERS,)]
    assert re.match(routes.OUR_HEADERS, "x-KAMCONF-identity") and not re.match(routes.OUR_HEADERS, "X-Other")
    assert told(ksr, "1000") == vouch.ANONYMOUS


def test_a_trunks_call_back_number_is_refused_busy_and_its_caller_called_back_on_the_owners_rights() -> None:
    trunk = dataclasses.replace(CARRIER, callback=("74951000000",), callback_owner="100", callback_per_hour=2)
    ksr, live = initial({"$si": "10.0.0.1", "$sp": 5090, "$rU": "74951000000", "$fU": "+79161234567"}), Live(
        trunks=(trunk,))
    route(ksr, live)
    assert ksr.called("sl.sl_send_reply") == [(486, "Busy Here")]
    assert live.callbacks == [("+79161234567", "1000", "100", 2)]  # put through to what inbound maps it to
    assert not ksr.called("tm.t_relay")
    # A caller without a number to call back is only refused.
    ksr, live = initial({"$si": "10.0.0.1", "$sp": 5090, "$rU": "74951000000", "$fU": "anonymous"}), Live(
        trunks=(trunk,))
    route(ksr, live)
    assert ksr.called("sl.sl_send_reply") == [(486, "Busy Here")] and live.callbacks == []


def test_a_voice_menu_reaches_the_bridge_as_a_room_of_its_own_kind() -> None:
    ksr, live = initial({"$rU": MENU}), Live()
    route(ksr, live)
    assert ksr.called("seturi") == [("sip:menu-700@127.0.0.1:5081",)]
    assert live.claims == [("menu-700", "b", None)]
    assert told(ksr, "menu-700") == vouch.ANONYMOUS


def test_a_room_follows_its_affinity_even_to_the_busier_node() -> None:
    ksr, live = initial(), Live(affinity="a")
    route(ksr, live)
    assert ksr.called("setdsturi") == [("sip:127.0.0.1:5080",)]
    assert live.claims == []


def test_affinity_to_a_dead_node_is_replaced() -> None:
    ksr, live = initial(), Live(affinity="gone")
    route(ksr, live)
    assert live.claims == [("1000", "b", "gone")]


@pytest.mark.parametrize("user", ["9999", "abc", None, ""])
def test_unknown_numbers_get_404(user: str | None) -> None:
    ksr = initial({"$rU": user})
    route(ksr, Live(rooms=()))
    assert ksr.replies() == [404]
    assert not ksr.called("tm.t_relay")


def test_redis_unavailable_answers_503_with_retry_after() -> None:
    ksr = initial()
    route(ksr, Live(down=True))
    assert ksr.replies() == [503]
    assert ksr.called("hdr.append") == [("Retry-After: 5\r\n",)]


def test_no_live_node_answers_503() -> None:
    ksr = initial()
    route(ksr, Live(nodes=[]))
    assert ksr.replies() == [503]


def test_failed_offer_answers_503_and_does_not_relay() -> None:
    ksr = FakeKSR(results={"siputils.has_totag": -1, "tmx.t_precheck_trans": -1, "tm.t_check_trans": -1,
                           "rtpengine.rtpengine_offer": -1})
    route(ksr)
    assert ksr.replies() == [503]
    assert not ksr.called("tm.t_relay")


def test_too_many_hops_gets_483() -> None:
    ksr = FakeKSR(results={"maxfwd.process_maxfwd": -1})
    route(ksr)
    assert ksr.replies() == [483]


def test_malformed_request_stops_after_sanity() -> None:
    ksr = FakeKSR(results={"sanity.sanity_check": -1})
    route(ksr)
    assert not ksr.called("tm.t_relay")
    assert ksr.replies() == []  # sanity itself answered 400


def test_options_is_answered() -> None:
    ksr = initial({"$rm": "OPTIONS", "$rU": None})
    route(ksr)
    assert ksr.replies() == [200]


def test_other_methods_outside_a_dialog_get_405() -> None:
    ksr = initial({"$rm": "MESSAGE"})
    route(ksr)
    assert ksr.replies() == [405]


def test_cancel_is_relayed_when_its_transaction_exists() -> None:
    ksr = FakeKSR({"$rm": "CANCEL"}, {"tm.t_check_trans": 1})
    route(ksr)
    assert ksr.called("tm.t_relay") == [()]


# An in-dialog request of the caller's that goes where the dialog's callee is.
TO_THE_CALLEE = {dialogs.REQUEST_URI[0]: "127.0.0.1", dialogs.CALLEE_HOSTS: "127.0.0.1:5060",
                 "$dlg(from_tag)": "from-tag"}


def test_bye_in_dialog_releases_media_and_follows_record_route() -> None:
    ksr = FakeKSR({"$rm": "BYE", **TO_THE_CALLEE}, {"siputils.has_totag": 1, "rr.loose_route": 1})
    route(ksr)
    assert ksr.called("rtpengine.rtpengine_delete0") == [()]
    assert ksr.called("tm.t_relay") == [()]


def test_reinvite_reoffers_media_but_a_failure_keeps_the_session() -> None:
    ksr = FakeKSR({"$rm": "INVITE", **TO_THE_CALLEE}, {"siputils.has_totag": 1, "rr.loose_route": 1})
    route(ksr)
    assert ksr.called("rtpengine.rtpengine_offer")
    assert not ksr.called("tm.t_on_failure")


def test_in_dialog_request_without_route_gets_404() -> None:
    ksr = FakeKSR({"$rm": "INFO"}, {"siputils.has_totag": 1, "rr.loose_route": -1})
    route(ksr)
    assert ksr.replies() == [404]


def test_answer_with_sdp_completes_the_anchor() -> None:
    ksr = FakeKSR({"$rs": 200})
    routes.reply_with_media(ksr)
    assert ksr.called("rtpengine.rtpengine_answer") == [(routes.media.ANSWER_FLAGS,)]


def test_trying_does_not_touch_media() -> None:
    ksr = FakeKSR({"$rs": 100})
    routes.reply_with_media(ksr)
    assert not ksr.called("rtpengine.rtpengine_answer")


def test_failure_releases_media() -> None:
    ksr = FakeKSR()
    routes.media_failure(ksr)
    assert ksr.called("rtpengine.rtpengine_delete0") == [()]


def test_register_of_an_unknown_extension_is_challenged_as_a_known_one_is() -> None:
    unknown = initial({"$rm": "REGISTER", "$tU": "555"}, results={"auth.pv_auth_check": -5})
    route(unknown)
    known = initial({"$rm": "REGISTER", "$tU": "100"}, results={"auth.pv_auth_check": -5})
    route(known)
    assert unknown.called("auth.auth_challenge") == known.called("auth.auth_challenge") == [(REALM, 1)]
    assert unknown.replies() == known.replies() == []  # the challenge is auth's own 401
    # Its password is a secret HA1 nobody can answer; even an answer that verified is challenged again.
    (_, ha1_of_unknown, _, _), = unknown.called("auth.pv_auth_check")
    assert re.fullmatch("[0-9a-f]{32}", ha1_of_unknown) and ha1_of_unknown != routes.unusable_ha1(b"x" * 32, "555")
    verified = initial({"$rm": "REGISTER", "$tU": "555"})
    route(verified)
    assert verified.called("auth.auth_challenge") and not verified.called("registrar.save")


def test_register_without_good_credentials_is_challenged() -> None:
    ksr = initial({"$rm": "REGISTER", "$tU": "100"}, results={"auth.pv_auth_check": -5})
    route(ksr)
    assert ksr.called("auth.pv_auth_check") == [(REALM, EXT_100.ha1, routes.AUTH_HA1, routes.AUTH_SAME_USER)]
    assert ksr.called("auth.auth_challenge") == [(REALM, routes.CHALLENGE_QOP)]
    assert not ksr.called("registrar.save")


def test_register_with_credentials_is_saved() -> None:
    ksr = initial({"$rm": "REGISTER", "$tU": "100"})
    route(ksr)
    assert ksr.called("registrar.save") == [("location", 0)]


def test_an_extension_must_prove_itself_before_calling() -> None:
    ksr = initial({"$fU": "100", "$rU": "101"}, results={"auth.pv_auth_check": -2})
    route(ksr)
    assert ksr.called("auth.auth_challenge") and not ksr.called("tm.t_relay")


def test_an_authenticated_extension_reaches_a_registered_one() -> None:
    ksr = initial({"$fU": "100", "$rU": "101"})
    route(ksr)
    assert ksr.called("auth.consume_credentials") == [()]
    assert ksr.called("setuser") == [("101",)]
    assert ksr.called("registrar.lookup") == [("location",)]
    assert ksr.called("rtpengine.rtpengine_offer") and ksr.called("tm.t_relay") == [()]


def test_an_extension_that_is_not_registered_is_unavailable() -> None:
    ksr = initial({"$fU": "100", "$rU": "101"}, results={"registrar.lookup": -1})
    route(ksr)
    assert ksr.replies() == [480] and not ksr.called("tm.t_relay")


def test_a_stranger_calling_an_extension_is_forbidden() -> None:
    ksr = initial({"$fU": "someone", "$rU": "101", "$si": "192.0.2.9"})
    route(ksr)
    assert ksr.replies() == [403] and not ksr.called("auth.pv_auth_check")


def test_external_numbers_go_to_the_trunk_gateway() -> None:
    ksr = initial({"$fU": "100", "$rU": "84951234567"})
    route(ksr)
    assert ksr.called("seturi") == [("sip:84951234567@10.0.0.1:5090",)]
    assert ksr.called("tm.t_relay") == [()]
    # The carrier hears who calls from kamconf: whatever identity the caller wrote is removed.
    assert [args for args in ksr.called("hdr.remove") if args[0] in routes.CALLER_IDENTITY] == [
        (name,) for name in routes.CALLER_IDENTITY]
    assert ("P-Asserted-Identity: <sip:100@127.0.0.1>\r\n",) in ksr.called("hdr.append")


def test_no_external_calls_for_extensions_without_them_nor_for_trunks() -> None:
    ksr = initial({"$fU": "101", "$rU": "84951234567"})
    route(ksr)
    assert ksr.replies() == [403]
    ksr = initial({"$fU": "anyone", "$rU": "84951234567", "$si": "10.0.0.1", "$sp": 5090})
    route(ksr)
    assert ksr.replies() == [403]


def test_a_trunk_call_to_its_inbound_number_reaches_the_extension_without_auth() -> None:
    ksr = initial({"$fU": "100", "$rU": "74950000000", "$si": "10.0.0.1", "$sp": 5090})
    route(ksr)
    assert not ksr.called("auth.pv_auth_check")
    assert ksr.called("setuser") == [("100",)] and ksr.called("tm.t_relay") == [()]


def test_the_bridge_is_recognised_by_its_address_and_may_call_out() -> None:
    ksr = initial({"$fU": "bridge-1", "$rU": "84951234567", "$si": "127.0.0.1", "$sp": 5080})
    route(ksr)
    assert ksr.called("seturi") == [("sip:84951234567@10.0.0.1:5090",)]
    assert not [args for args in ksr.called("hdr.append") if args[0].startswith("P-Asserted-Identity")]


def appended(ksr: FakeKSR, header: str) -> list[str]:
    return [args[0] for args in ksr.called("hdr.append") if args[0].startswith(header + ":")]


def test_a_bridge_call_shows_the_number_the_bridge_states_to_a_trunk_and_to_an_extension() -> None:
    bridge = {"$fU": "bridge-1", "$si": "127.0.0.1", "$sp": 5080,
              "$hdr(P-Asserted-Identity)": "<sip:74951112233@127.0.0.1:5060>"}
    ksr = initial({**bridge, "$rU": "84951234567"})
    route(ksr)
    assert appended(ksr, "P-Asserted-Identity") == ["P-Asserted-Identity: <sip:74951112233@127.0.0.1>\r\n"]
    assert ("P-Asserted-Identity",) in ksr.called("hdr.remove")  # the bridge's own, replaced by ours
    assert not ksr.called("uac.uac_replace_from")  # the trunk reads PAI only
    ksr = initial({**bridge, "$rU": "100"})
    route(ksr)
    assert appended(ksr, "P-Asserted-Identity") == ["P-Asserted-Identity: <sip:74951112233@127.0.0.1>\r\n"]
    assert ksr.called("uac.uac_replace_from") == [("74951112233", "sip:74951112233@127.0.0.1")]


def test_only_a_bridge_states_a_number() -> None:
    ksr = initial({"$fU": "someone", "$rU": "100", "$si": "10.0.0.1", "$sp": 5090,
                   "$hdr(P-Asserted-Identity)": "<sip:74951112233@127.0.0.1>"})
    route(ksr)
    assert ksr.called("setuser") == [("100",)]
    assert not appended(ksr, "P-Asserted-Identity") and not ksr.called("uac.uac_replace_from")
    assert [args for args in ksr.called("hdr.remove") if args[0] in routes.CALLER_IDENTITY] == [
        (name,) for name in routes.CALLER_IDENTITY]


@pytest.mark.parametrize("trusted", [True, False])
def test_a_trunks_forwarded_call_keeps_its_identity_only_if_the_trunk_is_trusted(trusted: bool) -> None:
    fixed = TrunkSettings("out", "10.0.0.2:5090", ("10.0.0.2",), ("8",), caller_id="74950000000",
                          present_as=Presentation.PAI_AND_FROM)
    source = dataclasses.replace(CARRIER, prefixes=(), trusted=trusted)
    ksr = initial({"$fU": "74957654321", "$rU": "103", "$si": "10.0.0.1", "$sp": 5090})
    route(ksr, Live(trunks=(source, fixed)))
    assert ksr.called("seturi") == [("sip:84951234567@10.0.0.2:5090",)]
    removed = [args for args in ksr.called("hdr.remove") if args[0] in routes.CALLER_IDENTITY]
    if trusted:
        assert not removed and not appended(ksr, "P-Asserted-Identity") and not ksr.called("uac.uac_replace_from")
    else:
        assert removed == [(name,) for name in routes.CALLER_IDENTITY]
        assert appended(ksr, "P-Asserted-Identity") == ["P-Asserted-Identity: <sip:74950000000@127.0.0.1>\r\n"]
        assert ksr.called("uac.uac_replace_from") == [("74950000000", "sip:74950000000@127.0.0.1")]


def test_a_local_conference_goes_to_a_bridge_under_its_own_key() -> None:
    ksr, live = initial({"$fU": "101", "$rU": "*8100"}), Live()  # what the phone dials
    route(ksr, live)
    room = str(address.local("100"))
    assert live.claims == [(room, "b", None)]
    assert told(ksr, room) == vouch.Vouched("extension", "101")


def test_calls_of_a_consult_merge_extension_are_anchored_in_a_bridge() -> None:
    ksr, live = initial({"$fU": "102", "$rU": "84951234567", "$ci": "abc"}), Live()
    route(ksr, live)
    key = str(address.call("abc"))
    assert ksr.called("seturi") == [(f"sip:{key}@127.0.0.1:5081",)] and live.claims == [(key, "b", None)]
    assert told(ksr, key) == vouch.Vouched("extension", "102", "84951234567", controller_is_caller=True)
    ksr = initial({"$fU": "anyone", "$rU": "74950000000", "$si": "10.0.0.1", "$sp": 5090})
    route(ksr)
    # EXT_100 has no consult_merge: straight to it
    assert ksr.called("registrar.lookup") == [("location",)] and not ksr.called("setdsturi")
    ksr = initial({"$fU": "100", "$rU": "102"})
    route(ksr)
    assert told(ksr, str(address.call("call-1"))) == vouch.Vouched("extension", "100", "102")


def test_the_bridge_own_calls_are_never_anchored_again() -> None:
    ksr = initial({"$fU": "x", "$rU": "102", "$si": "127.0.0.1", "$sp": 5080})
    route(ksr)
    assert ksr.called("registrar.lookup") == [("location",)] and not ksr.called("setdsturi")


def test_a_trunk_number_of_a_room_reaches_the_bridge_as_that_room() -> None:
    ksr, live = initial({"$fU": "x", "$rU": "74951000000", "$si": "10.0.0.1", "$sp": 5090}), Live()
    route(ksr, live)
    assert ksr.called("seturi") == [("sip:1000@127.0.0.1:5081",)] and live.claims == [("1000", "b", None)]
    assert told(ksr, "1000") == vouch.Vouched("trunk", "carrier")
    assert ksr.called("rtpengine.rtpengine_offer") == [(routes.media.OFFER_FLAGS,)]  # a carrier's SDP is kept


def test_an_invite_reads_nodes_and_trunks_once() -> None:
    ksr, live = initial({"$fU": "102", "$rU": "84951234567"}), Live()  # identified, routed, placed
    route(ksr, live)
    assert sorted(live.reads) == ["nodes", "trunks"]


def test_an_sdp_offer_from_a_caller_that_accepts_no_sdp_is_refused_before_anything_else() -> None:
    ksr, live = initial({"$(hdr(Accept)[*])": "text/nobodyknowsthis"}), Live()
    route(ksr, live)
    assert ksr.replies() == [406] and not ksr.called("tm.t_relay") and live.claims == []
    ksr = initial({"$(hdr(Accept)[*])": "application/sdp"})
    route(ksr)
    assert ksr.called("tm.t_relay") == [()]


def test_an_initial_invite_without_a_from_tag_is_refused_not_relayed() -> None:
    ksr = initial({"$ft": None})
    route(ksr)
    assert ksr.replies() == [400] and not ksr.called("tm.t_relay") and not ksr.called("rtpengine.rtpengine_offer")


def test_a_callee_over_tls_is_offered_srtp_everyone_else_rtp() -> None:
    ksr = initial({"$fU": "100", "$rU": "101", "$ru": "sip:101@192.0.2.7:5061;transport=TLS"})
    route(ksr)
    (flags,) = ksr.called("rtpengine.rtpengine_offer")[0]
    assert "RTP/SAVP" in flags and "RTP/AVP" not in flags
    ksr = initial({"$fU": "100", "$rU": "101", "$ru": "sip:101@192.0.2.7:5060"})
    route(ksr)
    (flags,) = ksr.called("rtpengine.rtpengine_offer")[0]
    assert "RTP/AVP" in flags and "SAVP" not in flags


BRIDGE_A = {"$fU": "bridge-1", "$si": "127.0.0.1", "$sp": 5080, "$rU": "conf-123456"}
OWNER_RELAYED = vouch.Vouched("extension", "100", source="192.0.2.7", role="admin", caller="sip:100@127.0.0.1")


def test_a_bridge_carries_a_dial_in_caller_to_its_conferences_node_with_a_relay_ticket() -> None:
    ticket = vouch.sign_relay(SECRET, "conf-123456", OWNER_RELAYED, NOW)
    ksr, live = initial({**BRIDGE_A, f"$hdr({vouch.RELAY_HEADER})": ticket}), Live(affinity="b")
    route(ksr, live)
    assert ksr.called("seturi") == [("sip:conf-123456@127.0.0.1:5081",)]
    assert ksr.called("tm.t_relay") == [()]
    # The ticket itself goes no further; the conference's node is told by Kamailio's own header.
    assert ksr.called("textops.remove_hf_re") == [(routes.OUR_HEADERS,)]
    value = appended(ksr, vouch.HEADER)[0].split(":", 1)[1].strip()
    assert vouch.verify(SECRET, value, str(ksr.pv.get("$ci")), "conf-123456", NOW) == OWNER_RELAYED
    # Media: the bridge node's SDP is believed (no phone's SIP source forced onto it).
    assert ksr.called("rtpengine.rtpengine_offer") == [(routes.media.OFFER_FLAGS,)]


@pytest.mark.parametrize("ticket", [
    None,  # no ticket
    "v1;ts=1800000000;who=extension:100;anchor=-;src=-;as=admin/sip%3A100;sig=" + "0" * 64,  # forged
    vouch.sign_relay(SECRET, "conf-654321", OWNER_RELAYED, NOW),  # another conference's
    vouch.sign_relay(SECRET, "conf-123456", OWNER_RELAYED, NOW - vouch.MAX_AGE - 1),  # stale
    vouch.sign(SECRET, "call-1", "conf-123456", vouch.Vouched("extension", "100"), NOW),  # a call's, no ticket
])
def test_a_bridge_without_a_valid_ticket_is_refused_a_conference(ticket: str | None) -> None:
    pv = {**BRIDGE_A, f"$hdr({vouch.RELAY_HEADER})": ticket} if ticket else BRIDGE_A
    ksr = initial(pv)
    route(ksr, Live(affinity="b"))
    assert ksr.replies() == [403] and not ksr.called("tm.t_relay")


def test_nobody_but_a_bridge_reaches_a_conference_even_with_a_valid_ticket() -> None:
    ticket = vouch.sign_relay(SECRET, "conf-123456", OWNER_RELAYED, NOW)
    for who in ({"$fU": "someone", "$si": "192.0.2.9", "$sp": 5060},  # anonymous
                {"$fU": "100", "$si": "10.0.0.1", "$sp": 5090}):  # the carrier's trunk
        ksr = initial({**who, "$rU": "conf-123456", f"$hdr({vouch.RELAY_HEADER})": ticket})
        route(ksr, Live(affinity="b"))
        assert ksr.replies() == [403] and not ksr.called("tm.t_relay"), who
