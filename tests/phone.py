"""A scriptable SIP test phone on pjsua2, one process per phone.

Reads one JSON command per line on stdin, writes one JSON event per line on
stdout. Commands:
  {"cmd": "call", "uri": "sip:1000@127.0.0.1:5060", "play": "tone.wav", "record": "out.wav"}
      optional "headers": [[name, value], ...] and "parts": [["text/plain", body], ...] (multipart/mixed
      body: the SDP offer and these parts)
  {"cmd": "register", "registrar": "sip:127.0.0.1:5060", "user": "100", "password": "..."}
      become that extension (digest credentials); a "registered" event tells the outcome
  {"cmd": "become", "user": "74951112233"}         call from sip:USER@address:port (a carrier's caller), unregistered
  {"cmd": "answer", "play": ..., "record": ...}    answer the ringing incoming call
  {"cmd": "early", "play": ..., "record": ...}     183 with SDP: play early media, not answered yet
  {"cmd": "reject", "code": 486}                   refuse the ringing incoming call
  {"cmd": "dtmf", "digits": "1234#", "method": "rfc2833" | "info"}
  {"cmd": "hangup"}
  {"cmd": "quit"}
Events: ready (with sip_port), registered (with code), incoming (with the From as remote and the identity
headers), state (with state
and code), media, recorded (the WAV is complete), error.
Usage: python -m tests.phone [--address 127.0.0.1] [--codec PCMU/8000] [--loss-percent 5]
  --loss-percent N (or $KAMCONF_PHONE_LOSS_PERCENT): drop about N % of the RTP packets it sends, at random
  (pjmedia's loss simulation; N >= 1)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import sys
import threading
import time
from typing import Any

import pjsua2 as pj

INFO_KEY_INTERVAL = 0.15  # seconds between keys sent by SIP INFO (a quick typist)

_STATES = {
    pj.PJSIP_INV_STATE_CALLING: "CALLING",
    pj.PJSIP_INV_STATE_INCOMING: "INCOMING",
    pj.PJSIP_INV_STATE_EARLY: "EARLY",
    pj.PJSIP_INV_STATE_CONNECTING: "CONNECTING",
    pj.PJSIP_INV_STATE_CONFIRMED: "CONFIRMED",
    pj.PJSIP_INV_STATE_DISCONNECTED: "DISCONNECTED",
}


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


class PhoneCall(pj.Call):
    def __init__(self, phone: Phone, account: pj.Account, call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)
        self.phone = phone

    def onCallState(self, prm: pj.OnCallStateParam) -> None:  # noqa: N802
        info = self.getInfo()
        emit("state", state=_STATES.get(info.state, str(info.state)), code=info.lastStatusCode,
             reason=info.lastReason, call_id=info.callIdString)
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.phone.pending_cleanup = True

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:  # noqa: N802
        self.phone.connect_media(self)


def with_extras(param: pj.CallOpParam, cmd: dict[str, Any]) -> pj.CallOpParam:
    """Extra headers, and body parts sent beside the SDP in a multipart/mixed body (what an attacker
    might send: the tests check nobody believes them)."""
    for name, value in cmd.get("headers") or []:
        header = pj.SipHeader()
        header.hName, header.hValue = name, value
        param.txOption.headers.append(header)
    for content_type, body in cmd.get("parts") or []:
        part = pj.SipMultipartPart()
        part.contentType.type, part.contentType.subType = content_type.split("/", 1)
        part.body = body
        param.txOption.multipartParts.append(part)
    if cmd.get("parts"):
        param.txOption.multipartContentType.type = "multipart"
        param.txOption.multipartContentType.subType = "mixed"
    return param


IDENTITY = ("p-asserted-identity", "p-preferred-identity", "remote-party-id", "diversion")


def identity_headers(message: str) -> dict[str, list[str]]:
    """The identity headers of a received request (what a carrier would bill and show)."""
    head = message.replace("\r\n", "\n").split("\n\n", 1)[0]
    found: dict[str, list[str]] = {}
    for line in head.split("\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() in IDENTITY:
            found.setdefault(name.strip().lower(), []).append(value.strip())
    return found


class PhoneAccount(pj.Account):
    def __init__(self, phone: Phone) -> None:
        super().__init__()
        self.phone = phone

    def onRegState(self, prm: pj.OnRegStateParam) -> None:  # noqa: N802
        emit("registered", code=prm.code, reason=prm.reason, expiration=prm.expiration)

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:  # noqa: N802
        call = PhoneCall(self.phone, self, prm.callId)
        if self.phone.call is not None:
            busy = pj.CallOpParam()
            busy.statusCode = 486
            call.hangup(busy)
            return
        self.phone.call = call
        ringing = pj.CallOpParam()
        ringing.statusCode = 180
        call.answer(ringing)
        emit("incoming", remote=call.getInfo().remoteUri, identity=identity_headers(prm.rdata.wholeMsg))


class Phone:
    def __init__(self, address: str, codec: str | None, loss_percent: int = 0) -> None:
        self.endpoint = pj.Endpoint()
        self.endpoint.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.userAgent = "kamconf-test-phone"
        cfg.logConfig.consoleLevel = 1
        cfg.logConfig.level = 1
        cfg.medConfig.noVad = True
        cfg.medConfig.ecTailLen = 0
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        # pjmedia drops a packet when rand() % 100 <= txDropPct: N - 1 drops N % of them.
        cfg.medConfig.txDropPct = max(0, loss_percent - 1)
        self.endpoint.libInit(cfg)
        transport = pj.TransportConfig()
        transport.boundAddress = address
        transport.port = 0
        tid = self.endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
        self.sip_port = self.endpoint.transportGetInfo(tid).localName.split(":")[-1]
        self.endpoint.libStart()
        self.endpoint.audDevManager().setNullDev()
        if codec:
            for info in self.endpoint.codecEnum2():
                self.endpoint.codecSetPriority(info.codecId, 255 if info.codecId.startswith(codec) else 0)
        self.address = address
        self.account = self.new_account(f"sip:phone-{os.getpid()}@{address}:{self.sip_port}")
        self.call: PhoneCall | None = None
        self.player: pj.AudioMediaPlayer | None = None
        self.recorder: pj.AudioMediaRecorder | None = None
        self.play_path: str | None = None
        self.record_path: str | None = None
        self.pending_cleanup = False
        self.info_digits = ""  # keys still to send by SIP INFO
        self.next_info = 0.0

    def new_account(self, id_uri: str, registrar: str = "", user: str = "", password: str = "") -> PhoneAccount:
        acc_cfg = pj.AccountConfig()
        acc_cfg.idUri = id_uri
        acc_cfg.mediaConfig.transportConfig.boundAddress = self.address
        if registrar:
            acc_cfg.regConfig.registrarUri = registrar
            acc_cfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, password))
        account = PhoneAccount(self)
        account.create(acc_cfg)
        return account

    def connect_media(self, call: PhoneCall) -> None:
        try:
            media = call.getAudioMedia(-1)
        except pj.Error:
            return
        if self.play_path and self.player is None:
            self.player = pj.AudioMediaPlayer()
            self.player.createPlayer(self.play_path)
            self.player.startTransmit(media)
        if self.record_path and self.recorder is None:
            self.recorder = pj.AudioMediaRecorder()
            self.recorder.createRecorder(self.record_path)
            media.startTransmit(self.recorder)
        emit("media")

    def cleanup(self) -> None:
        self.pending_cleanup = False
        self.info_digits = ""
        self.player = None
        if self.recorder is not None:
            self.recorder = None  # deleting the recorder completes the WAV header
            emit("recorded", path=self.record_path)
        self.call = None
        self.play_path = self.record_path = None

    def command(self, cmd: dict[str, Any]) -> bool:
        name = cmd.get("cmd")
        if name == "call":
            self.play_path, self.record_path = cmd.get("play"), cmd.get("record")
            self.call = PhoneCall(self, self.account)
            self.call.makeCall(cmd["uri"], with_extras(pj.CallOpParam(True), cmd))
        elif name == "register":
            registrar = cmd["registrar"]
            host = registrar.split(":", 1)[1]
            old, self.account = self.account, self.new_account(f"sip:{cmd['user']}@{host}", registrar, cmd["user"],
                                                               cmd["password"])
            old.shutdown()
        elif name == "become" and self.call is None:
            old, self.account = self.account, self.new_account(f"sip:{cmd['user']}@{self.address}:{self.sip_port}")
            old.shutdown()
        elif name in ("answer", "early") and self.call is not None:
            if self.play_path is None and self.record_path is None:
                self.play_path, self.record_path = cmd.get("play"), cmd.get("record")
            ok = pj.CallOpParam()
            ok.statusCode = 200 if name == "answer" else 183
            self.call.answer(ok)
        elif name == "reject" and self.call is not None:
            refuse = pj.CallOpParam()
            refuse.statusCode = int(cmd.get("code", 486))
            self.call.hangup(refuse)
        elif name == "dtmf" and self.call is not None:
            self.send_dtmf(cmd["digits"], cmd.get("method", "rfc2833"))
        elif name == "hangup" and self.call is not None:
            self.call.hangup(pj.CallOpParam())
        elif name == "quit":
            return False
        else:
            emit("error", message=f"cannot {name} now")
        return True

    def send_dtmf(self, digits: str, method: str) -> None:
        assert self.call is not None
        if method == "info":
            self.info_digits += digits  # sent one by one from the loop, as keys are pressed
        else:
            self.call.dialDtmf(digits)

    def press_info_key(self, now: float) -> None:
        """One SIP INFO per key, a key press apart: sent back to back, they can overtake one another
        through a proxy's parallel workers, and the receiver refuses an INFO older than the last."""
        if not self.info_digits or now < self.next_info or self.call is None:
            return
        param = pj.CallSendDtmfParam()
        param.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
        param.digits, self.info_digits = self.info_digits[0], self.info_digits[1:]
        self.next_info = now + INFO_KEY_INTERVAL
        self.call.sendDtmf(param)

    def shutdown(self) -> None:
        if self.call is not None and not self.pending_cleanup:
            with contextlib.suppress(pj.Error):  # already ending; the loop below finishes it
                self.call.hangup(pj.CallOpParam())
        for _ in range(100):
            if self.call is None or self.pending_cleanup:
                break
            self.endpoint.libHandleEvents(20)
        self.cleanup()
        self.account.shutdown()
        del self.account
        self.endpoint.libDestroy()


def read_commands(commands: queue.Queue[dict[str, Any] | None]) -> None:
    for line in sys.stdin:
        if line.strip():
            commands.put(json.loads(line))
    commands.put(None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--codec", default=None, help="only this codec, e.g. PCMU/8000")
    parser.add_argument("--loss-percent", type=int, default=int(os.environ.get("KAMCONF_PHONE_LOSS_PERCENT", "0")))
    args = parser.parse_args()
    phone = Phone(args.address, args.codec, args.loss_percent)
    commands: queue.Queue[dict[str, Any] | None] = queue.Queue()
    threading.Thread(target=read_commands, args=(commands,), daemon=True).start()
    emit("ready", sip_port=int(phone.sip_port))
    running = True
    while running:
        phone.endpoint.libHandleEvents(10)
        phone.press_info_key(time.monotonic())
        if phone.pending_cleanup:
            phone.cleanup()
        while running and not commands.empty():
            cmd = commands.get()
            try:
                running = cmd is not None and phone.command(cmd)
            except pj.Error as exc:
                emit("error", message=exc.info())
    phone.shutdown()


if __name__ == "__main__":
    main()
