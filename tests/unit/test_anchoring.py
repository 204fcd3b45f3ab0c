"""conference.anchoring: which legs skip rtpengine."""

from __future__ import annotations

import pytest

from conference.anchoring import Leg, Offer, choose, still_direct


def sdp(address: str = "192.168.1.20", proto: str = "RTP/AVP", formats: str = "0 101", *extra: str) -> str:
    lines = ["v=0", f"o=- 1 1 IN IP4 {address}", "s=-", f"c=IN IP4 {address}", "t=0 0",
             f"m=audio 4000 {proto} {formats}", "a=rtpmap:101 telephone-event/8000", *extra, "a=sendrecv"]
    return "\r\n".join(lines) + "\r\n"


def plain(address: str = "192.168.1.20") -> Offer:
    offer = Offer.parse(sdp(address))
    assert offer is not None
    return offer


def test_a_plain_offer_is_read() -> None:
    assert plain() == Offer(frozenset({"192.168.1.20"}), False, frozenset({"PCMU", "TELEPHONE-EVENT"}))


def test_dynamic_codecs_are_named_by_rtpmap_and_media_level_addresses_count() -> None:
    body = sdp("10.0.0.1", "RTP/AVP", "96", "a=rtpmap:96 opus/48000/2", "c=IN IP4 10.0.0.2")
    assert Offer.parse(body) == Offer(frozenset({"10.0.0.1", "10.0.0.2"}), False, frozenset({"OPUS"}))


@pytest.mark.parametrize("body", [
    sdp(proto="RTP/SAVP"), sdp(proto="UDP/TLS/RTP/SAVPF"),
    sdp("192.168.1.20", "RTP/AVP", "0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abcd"),
    sdp("192.168.1.20", "RTP/AVP", "0", "a=fingerprint:sha-256 AB:CD"),
    sdp("192.168.1.20", "RTP/AVP", "0", "a=ice-ufrag:x", "a=candidate:1 1 udp 1 192.168.1.20 4000 typ host"),
])
def test_srtp_dtls_and_ice_are_seen(body: str) -> None:
    offer = Offer.parse(body)
    assert offer is not None and offer.secure


@pytest.mark.parametrize("body", ["", "v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 5000 RTP/AVP 96\r\n",
                                  sdp() + "a=x\r\n" * 300])
def test_no_audio_or_too_long_is_not_judged(body: str) -> None:
    assert Offer.parse(body) is None


def test_anchored_unless_asked_and_never_for_anonymous_callers() -> None:
    assert not choose(Leg.EXTENSION, False, plain(), "192.168.1.20").direct
    assert not choose(Leg.OTHER, True, plain(), "192.168.1.20").direct


def test_a_lan_extension_asking_for_it_goes_direct() -> None:
    assert choose(Leg.EXTENSION, True, plain(), "192.168.1.20").direct


def test_an_extension_whose_media_is_not_at_its_sip_source_stays_anchored() -> None:
    """Behind a NAT (private c=, public source), or naming another host for the bridge to stream at."""
    choice = choose(Leg.EXTENSION, True, plain("192.168.1.20"), "81.200.1.7")
    assert not choice.direct and "192.168.1.20" in choice.reason
    assert not choose(Leg.EXTENSION, True, plain("192.168.1.99"), "192.168.1.20").direct


def test_a_trunk_may_send_media_from_another_public_address_but_not_from_behind_a_nat() -> None:
    assert choose(Leg.TRUNK, True, plain("94.100.2.9"), "81.200.1.7").direct
    assert not choose(Leg.TRUNK, True, plain("10.1.1.1"), "81.200.1.7").direct
    assert choose(Leg.TRUNK, True, plain("10.1.1.1"), "10.1.1.2").direct  # a carrier's SBC on the LAN


@pytest.mark.parametrize("body", [sdp("0.0.0.0"), "v=0\r\nc=IN IP4\r\nm=audio 4000 RTP/AVP 0\r\n",
                                  sdp("pbx.example.com")])
def test_no_usable_media_address_stays_anchored(body: str) -> None:
    offer = Offer.parse(body)
    assert offer is not None
    assert not choose(Leg.EXTENSION, True, offer, "0.0.0.0").direct
    assert not choose(Leg.TRUNK, True, offer, "81.200.1.7").direct


def test_srtp_transcoding_tls_and_no_offer_stay_anchored() -> None:
    secure = Offer.parse(sdp(proto="RTP/SAVP"))
    opus = Offer.parse(sdp("192.168.1.20", "RTP/AVP", "96", "a=rtpmap:96 opus/48000/2"))
    assert not choose(Leg.EXTENSION, True, secure, "192.168.1.20").direct
    assert not choose(Leg.EXTENSION, True, opus, "192.168.1.20").direct
    assert not choose(Leg.EXTENSION, True, plain(), "192.168.1.20", secure_transport=True).direct
    assert not choose(Leg.EXTENSION, True, None, "192.168.1.20").direct


def test_the_bridges_own_offer_to_a_direct_callee_is_not_checked_for_nat() -> None:
    """A call the bridge places: the offer is the node's; the callee's setting decides."""
    assert choose(Leg.EXTENSION, True, plain("127.0.0.1"), None).direct
    assert choose(Leg.TRUNK, True, plain("127.0.0.1"), None).direct
    assert not choose(Leg.TRUNK, False, plain("127.0.0.1"), None).direct


def test_a_direct_calls_later_offers_are_judged_as_its_first_but_may_hold() -> None:
    assert still_direct(Leg.EXTENSION, plain(), "192.168.1.20").direct
    assert still_direct(Leg.EXTENSION, Offer.parse(sdp("0.0.0.0")), "192.168.1.20").direct  # RFC 2543 hold
    assert not still_direct(Leg.EXTENSION, plain("192.168.1.99"), "192.168.1.20").direct  # stream elsewhere
    assert not still_direct(Leg.EXTENSION, Offer.parse(sdp(proto="RTP/SAVP")), "192.168.1.20").direct
    assert not still_direct(Leg.EXTENSION, None, "192.168.1.20").direct  # a body not judged (multipart)
    assert not still_direct(Leg.TRUNK, plain("10.1.1.1"), "81.200.1.7").direct
