"""kamconf configuration: typed defaults, then the TOML file, then the environment.

Every process (the supervisor, KEMI inside Kamailio, the bridge, the web app,
the workers, the tests) reads its settings through `load()`, so one file
(`kamconf.toml` at the project root, or the path in $KAMCONF_CONFIG) decides
every address and port. An environment variable `KAMCONF_<SECTION>_<KEY>`
overrides a single value (e.g. `KAMCONF_SIP_PORT=5070`).

Standard library only: KEMI imports this inside Kamailio's embedded Python.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from conference.identity import CONSULT_CALLER_IDS, CUSTOMER, is_number

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT / "kamconf.toml"


@dataclass(frozen=True)
class SipConfig:
    address: str = "127.0.0.1"  # Kamailio listens here, UDP and TCP
    port: int = 5060
    # Digest realm of extensions' passwords: changing it invalidates every stored password.
    realm: str = "kamconf"
    # Kamailio signs what it vouches for to bridge nodes with this key (conference.vouch). Relative
    # to var_dir; made at the first start. Every Kamailio and bridge host needs the same file.
    secret_file: str = "secrets/vouch.key"
    # Kamailio's Prometheus metrics (xhttp_prom, over TCP) at http://address:metrics_port/metrics
    metrics_port: int = 9183
    # SIP over TLS on this port of `address` (0: none). Certificate and key in PEM, relative to
    # var_dir or absolute; left empty, a self-signed pair is made in var_dir/secrets/tls at the
    # first start (phones must then be told to accept it, or be given a real one here).
    tls_port: int = 5061
    tls_certificate: str = ""
    tls_private_key: str = ""


@dataclass(frozen=True)
class EdgeConfig:
    """What Kamailio refuses before routing: floods, scanners, oversized requests, password guessing."""

    flood_requests: int = 16  # a source sending more than this per flood_seconds (pike) ...
    flood_seconds: int = 2
    ban_seconds: int = 300  # ... is dropped this long; bridge nodes and trunks are never banned
    auth_failures: int = 10  # failed digest authentications from one source within
    auth_failure_seconds: int = 600  # this window ban it for
    auth_ban_seconds: int = 900
    max_contacts: int = 3  # registered devices per extension
    # Calls up at once from one address that is no bridge node or trunk (0: no limit); an office
    # behind one NAT address counts as one source.
    calls_per_source: int = 30
    # Anonymous callers (no extension, trunk or bridge node) in one room at once (0: no limit); the
    # dial-in service's guests are not counted.
    anonymous_per_room: int = 100
    max_message_bytes: int = 16384  # larger requests get 513
    max_uri_chars: int = 512  # longer request URIs get 414
    # A call's dialog is forgotten (and BYE sent to both sides) after this long without any
    # in-dialog request; long enough for a working day of conference.
    dialog_lifetime: int = 43200
    # Seconds between in-dialog OPTIONS to both sides of each call (0: none, else at least 30); a
    # side that answers 408 or 481 has vanished, and both sides get a BYE.
    dialog_keepalive: int = 0


def each_address(given: str, count: int, default: str, setting: str) -> list[str]:
    """The address of each of `count` processes: one each from `given` (comma-separated), or all `default`."""
    addresses = [a.strip() for a in given.split(",") if a.strip()]
    if not addresses:
        return [default] * count
    if len(addresses) != count:
        raise ConfigError(f"{setting} names {len(addresses)} address(es) for {count} process(es)")
    for address in addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError as exc:
            raise ConfigError(f"{setting}: {address!r} is not an IP address") from exc
    return addresses


@dataclass(frozen=True)
class RtpengineConfig:
    address: str = "127.0.0.1"  # media interface
    # Control (ng protocol, UDP): unauthenticated, so only on an internal address, apart from the media.
    ng_address: str = "127.0.0.1"
    ng_port: int = 2223
    port_min: int = 30000
    port_max: int = 34999
    metrics_port: int = 9190  # its own Prometheus endpoint (--listen-http, /metrics), on `address`
    # rtpengine processes on this host: instance i (from 0) listens on ng_port + i and metrics_port + i
    # and relays on the i-th of `instances` equal shares of the port range. Kamailio spreads calls
    # over all of them (one rtpengine set) and keeps each call on one.
    instances: int = 1
    # Each instance's media (and metrics) address instead, comma-separated, one per instance.
    instance_addresses: str = ""

    def instance(self, index: int) -> RtpengineConfig:
        if not 0 <= index < self.instances:
            raise ConfigError(f"[rtpengine] has {self.instances} instance(s); there is no instance {index}")
        share = (self.port_max - self.port_min + 1) // self.instances
        low = self.port_min + index * share
        address = each_address(self.instance_addresses, self.instances, self.address,
                               "[rtpengine] instance_addresses")[index]
        return dataclasses.replace(self, address=address, ng_port=self.ng_port + index,
                                   metrics_port=self.metrics_port + index, port_min=low, port_max=low + share - 1,
                                   instances=1, instance_addresses="")

    @property
    def all_instances(self) -> list[RtpengineConfig]:
        return [self.instance(index) for index in range(self.instances)]


@dataclass(frozen=True)
class RedisConfig:
    address: str = "127.0.0.1"
    # Not 6379, so the stack's own redis-server never meets a system one.
    port: int = 6399
    db: int = 0
    # Every component authenticates with the password in this file (relative to var_dir; made at
    # the first start). Without the file, no password is sent (a Redis of one's own, e.g. in tests).
    password_file: str = "secrets/redis.pass"
    # prometheus-redis-exporter's /metrics, on `address` (it logs in with the password file's password)
    exporter_port: int = 9121
    # High availability: `replicas` > 0 runs that many replicas (on port + 1, + 2, ...) and `sentinels`
    # Redis Sentinels (on sentinel_port + 0, 1, ...) that promote a replica when the master is lost;
    # every component then finds the master through the sentinels.
    replicas: int = 0
    sentinels: int = 3
    sentinel_port: int = 26399
    master_name: str = "kamconf"

    @property
    def sentinel_ports(self) -> list[int]:
        return [self.sentinel_port + index for index in range(self.sentinels)] if self.replicas else []


@dataclass(frozen=True)
class BridgeConfig:
    id: str = "bridge-1"
    address: str = "127.0.0.1"  # SIP and RTP address of the node
    sip_port: int = 5080
    rtp_port_min: int = 40000
    rtp_port_max: int = 44999
    capacity: int = 500  # participants the node accepts
    # 8 kHz matches G.711 (what carriers send); 16000 mixes G.722 wideband.
    clock_rate: int = 8000
    rtp_timeout: float = 30.0  # seconds without incoming RTP before hang-up
    heartbeat_interval: float = 2.0
    heartbeat_ttl: int = 6
    metrics_port: int = 9200  # Prometheus scrape endpoint, on `address`
    # Seconds between readings of each leg's stream statistics (call quality metrics, the participants'
    # and call records' figures); 0: none.
    quality_interval: float = 5.0
    # Other Kamailio nodes whose calls this node takes (ip:port, comma-separated); [sip]'s always.
    trusted_proxies: str = ""
    # Participants of a room that sets no max_participants (0): anonymous callers cannot take every slot.
    default_max_participants: int = 200
    # Calls the node places for one extension (*8 invitations, "#" consultations) per minute.
    originations_per_minute: int = 10
    # Bridge processes on this host (one per core mixes most): node i (from 0) is named, numbered and
    # given ports from the first's: id bridge-1, bridge-2, ...; sip_port + i; metrics_port + i; and
    # the i-th of `nodes` equal shares of the RTP port range.
    nodes: int = 1
    # Each node on its own address instead (comma-separated, one per node, e.g. "127.0.0.2,127.0.0.3"):
    # several nodes on one host then meet as nodes on several hosts do (tests of the multi-node mode).
    node_addresses: str = ""
    # Automatic gain control of each participant's voice (conference.gain): quiet and loud phones meet
    # at one level in the mix; it learns only from speech, so noise is never raised between words.
    agc: bool = True
    # Noise gate (conference.gate): in rooms of three voices or more, a leg that is not talking is out
    # of the mix, so the noise of many phones does not add up; off by default (README "Noise gate").
    noise_gate: bool = False

    def node(self, index: int) -> BridgeConfig:
        """The settings of this host's node `index` (0 .. nodes - 1)."""
        if not 0 <= index < self.nodes:
            raise ConfigError(f"[bridge] has {self.nodes} node(s); there is no node {index}")
        stem, _, first = self.id.rpartition("-")
        node_id = f"{stem}-{int(first) + index}" if stem and first.isdigit() else (
            self.id if index == 0 else f"{self.id}-{index + 1}")
        share = (self.rtp_port_max - self.rtp_port_min + 1) // self.nodes
        low = self.rtp_port_min + index * share
        address = each_address(self.node_addresses, self.nodes, self.address, "[bridge] node_addresses")[index]
        return dataclasses.replace(self, id=node_id, address=address, node_addresses="", sip_port=self.sip_port + index,
                                   metrics_port=self.metrics_port + index, rtp_port_min=low,
                                   rtp_port_max=low + share - 1, nodes=1)

    @property
    def all_nodes(self) -> list[BridgeConfig]:
        return [self.node(index) for index in range(self.nodes)]


@dataclass(frozen=True)
class WebConfig:
    address: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    # Relative SQLite paths are under var_dir; any SQLAlchemy URL works.
    database_url: str = "sqlite:///kamconf.db"
    # Prometheus metrics of the web processes (requests by endpoint and status class), on `address`
    metrics_port: int = 9184


@dataclass(frozen=True)
class WorkersConfig:
    address: str = "127.0.0.1"
    # Prometheus metrics of the worker (jobs, queue depth, mail outbox, scheduled conferences)
    metrics_port: int = 9185


@dataclass(frozen=True)
class ConferencesConfig:
    dial_in: str = "7000"  # the number callers dial to join a scheduled conference by its code
    language: str = "en"  # of the dial-in service's and scheduled conferences' prompts
    ring_seconds: int = 45  # how long a start-time call rings before it counts as unanswered
    retries: int = 2  # calls again after an unanswered or failed start-time call
    retry_seconds: int = 60
    # An operator's invitation (panel, API) may call numbers outside (through a trunk); off: only rooms
    # and extensions, so a stolen operator password cannot run up a phone bill.
    operator_outside_calls: bool = False
    # The number scheduled conferences' call-outs and operators' invitations show (seed 001: the PBX's
    # multi-line number); "" shows dial_in. A trunk's own caller_id replaces it towards that trunk.
    caller_id: str = ""
    # What a "#" consultation shows the one consulted: "customer" (the number the employee is talking
    # to) or "employee" (the consulting extension's own).
    consult_caller_id: str = CUSTOMER


@dataclass(frozen=True)
class MailConfig:
    host: str = "127.0.0.1"  # SMTP server for invitations and reminders
    port: int = 25
    sender: str = "kamconf@localhost"
    username: str = ""  # with a password: log in (STARTTLS first if the server offers it)
    password: str = ""
    domain: str = "kamconf.local"  # of calendar UIDs


@dataclass(frozen=True)
class WebhooksConfig:
    """Deliveries of room events to operators' URLs (conference.webhooks, workers.webhooks)."""

    # Deliveries to loopback, private and link-local addresses are refused (a URL is an operator's
    # word, and the worker sits inside the network): allow them for receivers on the inside.
    allow_private: bool = False
    timeout: float = 5.0  # seconds to connect and to wait for each part of the answer
    attempts: int = 10  # tries of one delivery in all; then it is failed (it can be replayed)
    retry_first: float = 1.0  # seconds before the second try, doubling each time ...
    retry_longest: float = 600.0  # ... up to this: 10 tries span about 8.5 minutes
    keep_days: int = 7  # deliveries older than this are deleted


@dataclass(frozen=True)
class Config:
    var_dir: str = "var"  # relative to the project root
    sip: SipConfig = field(default_factory=SipConfig)
    edge: EdgeConfig = field(default_factory=EdgeConfig)
    rtpengine: RtpengineConfig = field(default_factory=RtpengineConfig)
    redis: RedisConfig = field(default_factory=RedisConfig)
    bridge: BridgeConfig = field(default_factory=BridgeConfig)
    web: WebConfig = field(default_factory=WebConfig)
    conferences: ConferencesConfig = field(default_factory=ConferencesConfig)
    mail: MailConfig = field(default_factory=MailConfig)
    workers: WorkersConfig = field(default_factory=WorkersConfig)
    webhooks: WebhooksConfig = field(default_factory=WebhooksConfig)

    @property
    def var_path(self) -> Path:
        return ROOT / self.var_dir

    @property
    def secret_path(self) -> Path:
        return self.var_path / self.sip.secret_file

    @property
    def tls_files(self) -> tuple[Path, Path]:
        """Kamailio's TLS certificate and private key (made at the first start if not configured)."""
        certificate = self.sip.tls_certificate or "secrets/tls/certificate.pem"
        key = self.sip.tls_private_key or "secrets/tls/private-key.pem"
        return self.var_path / certificate, self.var_path / key

    @property
    def proxies(self) -> frozenset[str]:
        """The Kamailio addresses (ip:port) a bridge node takes calls from."""
        extra = {p.strip() for p in self.bridge.trusted_proxies.split(",") if p.strip()}
        return frozenset({f"{self.sip.address}:{self.sip.port}", *extra})

    @property
    def redis_url(self) -> str:
        """How every component reaches Redis: the server, or with replicas its master through the
        sentinels (redis+sentinel://, store.live.connect)."""
        password = self.redis_password
        return self._redis_url(f":{quote(password, safe='')}@" if password else "")

    @property
    def redis_shown(self) -> str:
        """The Redis URL for logs and status lines: never the password."""
        return self._redis_url("")

    def _redis_url(self, login: str) -> str:
        r = self.redis
        if not r.replicas:
            return f"redis://{login}{r.address}:{r.port}/{r.db}"
        sentinels = ",".join(f"{r.address}:{port}" for port in r.sentinel_ports)
        return f"redis+sentinel://{login}{sentinels}/{r.master_name}/{r.db}"

    @property
    def redis_password_path(self) -> Path:
        return self.var_path / self.redis.password_file

    @property
    def redis_password(self) -> str:
        try:
            return self.redis_password_path.read_text().strip()
        except FileNotFoundError:
            return ""

    @property
    def database_url(self) -> str:
        url = self.web.database_url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            return prefix + str(self.var_path / url[len(prefix) :])
        return url


class ConfigError(ValueError):
    pass


# PJSUA_MAX_CALLS of the node's build (bridge/pjsua2/config_site.h), less the calls it keeps for the
# ones it places (invitations, relays) and the ones still ending.
SPARE_CALLS = 16
MAX_CAPACITY = 2048 - SPARE_CALLS


def check_capacity(bridge: BridgeConfig) -> None:
    """A node's capacity fits its build and its share of the RTP ports (two a call: RTP and RTCP)."""
    if not 1 <= bridge.capacity <= MAX_CAPACITY:
        raise ConfigError(f"[bridge] capacity must be 1-{MAX_CAPACITY} participants, not {bridge.capacity}")
    node = bridge.node(0)
    ports, needed = node.rtp_port_max - node.rtp_port_min + 1, 2 * (bridge.capacity + SPARE_CALLS)
    if ports < needed:
        raise ConfigError(f"[bridge] capacity {bridge.capacity} needs {needed} RTP ports a node; "
                          f"rtp_port_min-rtp_port_max gives each of its {bridge.nodes} node(s) {ports}")


MIN_SECRET_CHARS = 32


def ensure_secret(path: Path) -> str:
    """The random key in `path`, made there first if missing (owner-only). Several processes may start
    at once: the key is written to a private temporary file and linked into place, so all read one."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    try:
        os.link(temporary, path)  # fails if another process was first: then its key is the key
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()


def read_secret(config: Config) -> bytes:
    """The key Kamailio and the bridge share; a missing or short one is a configuration error."""
    try:
        secret = config.secret_path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the vouching key {config.secret_path}: {exc.strerror}") from exc
    if len(secret) < MIN_SECRET_CHARS:
        raise ConfigError(f"the vouching key {config.secret_path} is shorter than {MIN_SECRET_CHARS} characters")
    return secret.encode()


def load(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Config:
    env = dict(os.environ) if env is None else env
    chosen = Path(path or env.get("KAMCONF_CONFIG") or DEFAULT_FILE)
    data: dict[str, Any] = {}
    if chosen.exists():
        with chosen.open("rb") as handle:
            data = tomllib.load(handle)
    elif path or env.get("KAMCONF_CONFIG"):
        raise ConfigError(f"config file {chosen} does not exist")
    config: Config = _build(Config, data, env, prefix="KAMCONF")
    clashes = port_clashes(config)
    if clashes:
        raise ConfigError("ports used twice: " + "; ".join(clashes))
    caller_id = config.conferences.caller_id
    if caller_id and not is_number(caller_id):
        raise ConfigError(f"[conferences] caller_id must be a number (digits, optionally after +), not {caller_id!r}")
    if config.conferences.consult_caller_id not in CONSULT_CALLER_IDS:
        raise ConfigError(f"[conferences] consult_caller_id must be one of {', '.join(CONSULT_CALLER_IDS)}")
    check_capacity(config.bridge)
    return config


UDP, TCP, BOTH = frozenset({"udp"}), frozenset({"tcp"}), frozenset({"udp", "tcp"})


def listening(config: Config) -> list[tuple[str, frozenset[str], str, range]]:
    """What the stack's own processes listen on: (who, protocols, address, ports)."""
    sip, r = config.sip, config.redis

    def one(port: int) -> range:
        return range(port, port + 1) if port else range(0)

    found = [("sip", BOTH, sip.address, one(sip.port)), ("sip tls_port", TCP, sip.address, one(sip.tls_port)),
             ("sip metrics_port", TCP, sip.address, one(sip.metrics_port)),
             ("web", TCP, config.web.address, one(config.web.port)),
             ("web metrics_port", TCP, config.web.address, one(config.web.metrics_port)),
             ("workers metrics_port", TCP, config.workers.address, one(config.workers.metrics_port)),
             ("redis", TCP, r.address, range(r.port, r.port + r.replicas + 1)),
             ("redis sentinels", TCP, r.address, range(r.sentinel_port, r.sentinel_port + len(r.sentinel_ports))),
             ("redis exporter_port", TCP, r.address, one(r.exporter_port))]
    for index, rtpe in enumerate(config.rtpengine.all_instances):
        found += [(f"rtpengine {index + 1} ng_port", UDP, rtpe.ng_address, one(rtpe.ng_port)),
                  (f"rtpengine {index + 1} metrics_port", TCP, rtpe.address, one(rtpe.metrics_port)),
                  (f"rtpengine {index + 1} media ports", UDP, rtpe.address, range(rtpe.port_min, rtpe.port_max + 1))]
    for node in config.bridge.all_nodes:
        found += [(f"{node.id} sip_port", UDP, node.address, one(node.sip_port)),
                  (f"{node.id} metrics_port", TCP, node.address, one(node.metrics_port)),
                  (f"{node.id} media ports", UDP, node.address, range(node.rtp_port_min, node.rtp_port_max + 1))]
    return found


def port_clashes(config: Config) -> list[str]:
    """Pairs of listeners whose ports meet on one address and protocol (e.g. a second rtpengine's
    metrics port on Kamailio's): the second would fail to start, or worse, take the other's traffic."""
    found = listening(config)
    return [f"{a} and {b} ({where}:{max(ra.start, rb.start)})"
            for i, (a, pa, where, ra) in enumerate(found) for b, pb, there, rb in found[i + 1:]
            if where == there and pa & pb and ra and rb and ra.start < rb.stop and rb.start < ra.stop]


def _build(cls: type, data: dict[str, Any], env: dict[str, str], prefix: str) -> Any:
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise ConfigError(f"unknown setting(s) {sorted(unknown)} in [{prefix}]")
    values: dict[str, Any] = {}
    for name, spec in known.items():
        env_key = f"{prefix}_{name}".upper()
        default = spec.default_factory() if spec.default_factory is not dataclasses.MISSING else spec.default
        if dataclasses.is_dataclass(default):
            section = data.get(name, {})
            if not isinstance(section, dict):
                raise ConfigError(f"[{name}] must be a table")
            values[name] = _build(type(default), section, env, env_key)
            continue
        value = data.get(name, default)
        if env_key in env:
            value = env[env_key]
        values[name] = _coerce(value, type(default), env_key)
    return cls(**values)


def _coerce(value: Any, kind: type, name: str) -> Any:
    try:
        if kind is bool and isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}: expected {kind.__name__}, got {value!r}") from exc
