"""The pjsua2 edge: endpoint setup, and Account/Call subclasses whose callbacks only queue events.

One thread owns pjsua2 (threadCnt=0, mainThreadOnly=True); BridgeNode drains
the queue after every libHandleEvents, so no decision is taken inside PJSIP.
"""

from __future__ import annotations

import logging
import resource
import time
import uuid
from collections import deque
from dataclasses import dataclass

import pjsua2 as pj

from bridge.inbound import Gate, read_invite
from conference.billing import Leg
from conference.vouch import ANONYMOUS, Vouched
from settings import MAX_CAPACITY, SPARE_CALLS, BridgeConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    call: RoomCall
    room: str | None
    caller: str
    extension: str | None = None  # the caller proved to Kamailio to be this extension
    name: str = ""  # display name of the From header
    anchor: tuple[str, bool] | None = None  # a "#" call: (number to call, the caller controls it)
    refused: int = 0  # a SIP status: the request is not one Kamailio vouched for, refuse it
    source: str = ""  # the previous hop's address, ip:port
    lockout: str = ""  # whom wrong PINs count against (conference.vouch.Vouched.lockout_key)
    vouched: Vouched = ANONYMOUS  # all Kamailio vouched for (a relay leg: the caller it carries, its role)


@dataclass(frozen=True)
class MediaReady:
    call: RoomCall


@dataclass(frozen=True)
class Ended:
    call: RoomCall
    status: int
    reason: str


@dataclass(frozen=True)
class Answered:
    """An outgoing call (an invite) was answered."""

    call: RoomCall


@dataclass(frozen=True)
class Digit:
    call: RoomCall
    digit: str
    method: str  # "rfc2833" or "info"


Event = Incoming | MediaReady | Ended | Answered | Digit


class RoomCall(pj.Call):
    def __init__(self, account: NodeAccount, call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)
        self.key = call_id  # PJSIP's id, kept: getId() is no longer valid once the call ends
        self.events = account.events
        self.room: str | None = None
        self.caller = ""
        self.extension: str | None = None  # the caller's extension, as Kamailio vouches
        self.lockout = ""  # whom its wrong PINs count against; "" for calls this node placed
        self.name = ""  # the caller's display name
        self.vouched = ANONYMOUS  # what Kamailio vouched for it (bridge.meetings relays it onwards)
        self.ended = False
        self.participant_id = uuid.uuid4().hex[:16]  # stable across nodes and restarts, unlike `key`
        self.joined_at: float | None = None  # wall clock, for people and history
        self.outgoing = False  # dialled by this node (an invite), not answered by it
        self.leg: Leg | None = None  # what its call detail record bills (dialled calls only)
        self.record_id = uuid.uuid4().hex  # of that record, open from the answer (store.spool)
        self.started_at = time.time()
        self.answered_at: float | None = None
        self.cancelled = False  # hung up by this node before it answered
        # Its mixer port, asked of PJSIP once per media change: getAudioMedia builds the whole CallInfo
        # (pjsua_call_get_info), the loop's costliest call when levels are sampled (bench/RESULTS.md).
        self.port: pj.AudioMedia | None = None

    def dial(self, uri: str, shown: str | None = None, headers: tuple[tuple[str, str], ...] = ()) -> None:
        """Call `uri`; `shown`: the number the call stands for, which Kamailio asserts onwards
        (kemi.routes.assert_identity believes it from a bridge node only); `headers`: more to send."""
        self.outgoing = True
        param = pj.CallOpParam(True)
        if shown is not None:
            headers = (("P-Asserted-Identity", f"<sip:{shown}@{uri.rpartition('@')[2]}>"), *headers)
        for name, value in headers:
            header = pj.SipHeader()
            header.hName, header.hValue = name, value
            param.txOption.headers.append(header)
        self.makeCall(uri, param)
        self.key = self.getId()

    def onCallState(self, prm: pj.OnCallStateParam) -> None:  # noqa: N802
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED and not self.ended:
            self.ended = True
            self.events.append(Ended(self, info.lastStatusCode, info.lastReason))
        elif info.state == pj.PJSIP_INV_STATE_CONFIRMED and self.outgoing and self.answered_at is None:
            self.answered_at = time.time()
            self.events.append(Answered(self))

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:  # noqa: N802
        self.port = None  # a re-INVITE or hold may have moved or removed it
        self.events.append(MediaReady(self))

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:  # noqa: N802
        method = "info" if prm.method == pj.PJSUA_DTMF_METHOD_SIP_INFO else "rfc2833"
        self.events.append(Digit(self, prm.digit, method))

    @property
    def in_pjsip(self) -> bool:
        """PJSIP holds this call: asking it about one it never made (refused before dialling) or has
        freed is not an error it returns but an assertion that aborts the whole node."""
        return self.key != pj.PJSUA_INVALID_ID and not self.ended

    def audio(self) -> pj.AudioMedia | None:
        """Its port in the mixer; None once its media is gone (ended, or not up yet)."""
        if not self.in_pjsip:
            return None
        if self.port is None:
            try:
                self.port = self.getAudioMedia(-1)
            except pj.Error:
                return None
        return self.port

    def rx_packets(self) -> int:
        if not self.in_pjsip:
            return -1
        try:
            return int(self.getStreamStat(0).rtcp.rxStat.pkt)
        except pj.Error:
            return -1


class NodeAccount(pj.Account):
    def __init__(self, events: deque[object], gate: Gate) -> None:
        super().__init__()
        self.events = events
        self.gate = gate

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:  # noqa: N802
        call = RoomCall(self, prm.callId)
        source = str(prm.rdata.srcAddress)
        invite = read_invite(prm.rdata.wholeMsg, source, self.gate, time.time())
        vouched = invite.vouched
        # A relay leg stands for the dial-in caller it carries: its From URI is the other node's.
        caller = vouched.caller if vouched.role else invite.caller
        self.events.append(Incoming(call, invite.room, caller, vouched.extension, invite.name,
                                    vouched.anchored, invite.refused, source, vouched.lockout_key(caller), vouched))


def start_endpoint(config: BridgeConfig) -> pj.Endpoint:
    calls = min(config.capacity, MAX_CAPACITY) + SPARE_CALLS
    enough_descriptors(calls)
    endpoint = pj.Endpoint()
    endpoint.libCreate()
    ep_cfg = pj.EpConfig()
    ep_cfg.uaConfig.threadCnt = 0
    ep_cfg.uaConfig.mainThreadOnly = True
    ep_cfg.uaConfig.maxCalls = calls
    ep_cfg.uaConfig.userAgent = "kamconf-bridge"
    ep_cfg.logConfig.level = 3
    ep_cfg.logConfig.consoleLevel = 2
    media = ep_cfg.medConfig
    media.clockRate = config.clock_rate
    media.sndClockRate = config.clock_rate
    media.channelCount = 1
    media.noVad = True
    media.ecTailLen = 0
    # A port per call, and one more while its prompt plays, plus music, silence and recorders.
    media.maxMediaPorts = 2 * calls + 64
    endpoint.libInit(ep_cfg)
    transport = pj.TransportConfig()
    transport.boundAddress = config.address
    transport.publicAddress = config.address
    transport.port = config.sip_port
    endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
    endpoint.libStart()
    endpoint.audDevManager().setNullDev()
    _prefer_codecs(endpoint, wideband=config.clock_rate >= 16000)
    return endpoint


def enough_descriptors(calls: int) -> None:
    """Raises the soft limit on open files to what `calls` need, within the hard limit: a login
    shell's soft limit (1,024) would stop a node near 500 calls."""
    needed = 4 * calls + 256  # two sockets a call, and Redis, logs, prompts and recordings besides
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    allowed = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (allowed, hard))
    if allowed < needed:
        log.warning("open files limited to %d (hard limit); %d calls need %d", allowed, calls, needed)


def _prefer_codecs(endpoint: pj.Endpoint, wideband: bool) -> None:
    # Offer G.722, PCMA and PCMU only; the clock rate decides which leads.
    order = ["G722/16000", "PCMU/8000", "PCMA/8000"] if wideband else ["PCMU/8000", "PCMA/8000", "G722/16000"]
    for codec in endpoint.codecEnum2():
        name = codec.codecId.split("/")[0] + "/" + codec.codecId.split("/")[1]
        priority = 255 - order.index(name) if name in order else 0
        endpoint.codecSetPriority(codec.codecId, priority)


def create_account(config: BridgeConfig, events: deque[object], gate: Gate) -> NodeAccount:
    acc_cfg = pj.AccountConfig()
    acc_cfg.idUri = f"sip:{config.id}@{config.address}:{config.sip_port}"
    # Without it PJSIP's Contact names the address the host would send from towards the other side
    # (127.0.0.1 towards a Kamailio on loopback, whatever address the node is bound to), and the
    # ACK and BYE that follow it go where nobody answers.
    acc_cfg.sipConfig.contactForced = f"<{acc_cfg.idUri}>"
    acc_cfg.mediaConfig.transportConfig.boundAddress = config.address
    acc_cfg.mediaConfig.transportConfig.publicAddress = config.address
    acc_cfg.mediaConfig.transportConfig.port = config.rtp_port_min
    acc_cfg.mediaConfig.transportConfig.portRange = config.rtp_port_max - config.rtp_port_min
    acc_cfg.natConfig.iceEnabled = False
    account = NodeAccount(events, gate)
    account.create(acc_cfg, True)
    return account


def create_music(path: str) -> pj.AudioMediaPlayer:
    player = pj.AudioMediaPlayer()
    player.createPlayer(path)  # loops by default
    return player
