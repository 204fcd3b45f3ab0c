"""The processes of one kamconf stack: how each starts and how to tell it is healthy.

Used by the supervisor (`make run/up/down/status`) and by the end-to-end tests,
which start the same stack on random ports.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import settings
from settings import ROOT, Config

PYTHON = sys.executable


@dataclass(frozen=True)
class Component:
    name: str
    argv: list[str]
    address: str
    healthy: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)
    # Runs to completion before the process starts (e.g. SQL migrations).
    before: list[str] | None = None
    # Listens on its own address: if something answers there already, do not start.
    exclusive: bool = True


def components(config: Config, config_file: Path) -> list[Component]:
    """In start order; the supervisor stops them in reverse, so the bridge's
    BYEs still find Kamailio and rtpengine on shutdown."""
    var = config.var_path
    env = {
        "KAMCONF_CONFIG": str(config_file),
        "PYTHONPATH": os.pathsep.join([str(ROOT), sysconfig.get_paths()["purelib"]]),
        "PYTHONUNBUFFERED": "1",
    }
    sip = f"{config.sip.address}:{config.sip.port}"
    web = f"{config.web.address}:{config.web.port}"
    rtpe = config.rtpengine
    return [
        *(redis_server(config, index) for index in range(config.redis.replicas + 1)),
        *(sentinel(config, port) for port in config.redis.sentinel_ports),
        redis_exporter(config),
        *(rtpengine(config, index) for index in range(config.rtpengine.instances)),
        Component(
            name="kamailio",
            argv=[
                "kamailio", "-f", str(ROOT / "kamailio/kamailio.cfg"), "-DD", "-E",
                "-Y", str(var / "run/kamailio"),
                "-A", f"SIP_ADDR={config.sip.address}", "-A", f"SIP_PORT={config.sip.port}",
                "-A", "RTPENGINE_SOCK=\"" + " ".join(f"udp:{r.ng_address}:{r.ng_port}" for r in rtpe.all_instances)
                + "\"",
                "-A", f'KEMI_SCRIPT="{ROOT / "kemi/main.py"}"',
                "-A", f'CTL_SOCK="unixs:{var / "run/kamailio/kamailio.ctl"}"',
                "-A", f'JSONRPC_SOCK="{var / "run/kamailio/kamailio-rpc.sock"}"',
                "-A", f"METRICS_PORT={config.sip.metrics_port}",  # Prometheus: /metrics (xhttp_prom)
                *kamailio_edge_defines(config),
                *kamailio_tls_defines(config),
            ],
            address=f"sip:{sip} (udp, tcp" + (f"; tls {config.sip.tls_port})" if config.sip.tls_port else ")"),
            healthy=lambda: sip_options_ok(config.sip.address, config.sip.port),
            env=env,
        ),
        *(bridge_node(config, index, env) for index in range(config.bridge.nodes)),
        Component(
            name="web",
            argv=[
                # web/metrics.py: gunicorn's hooks that serve every worker's metrics on [web] metrics_port
                str(Path(PYTHON).parent / "gunicorn"), "-c", "python:web.metrics", "--bind", web,
                "--workers", str(config.web.workers), "--access-logfile", "-",
                "--graceful-timeout", "5", "web.app:create_app()",
            ],
            address=f"http://{web}",
            healthy=lambda: http_ok(f"http://{web}/healthz"),
            env={**env, "PROMETHEUS_MULTIPROC_DIR": str(var / "run/web-metrics")},
            before=[PYTHON, "-m", "store.bootstrap"],
        ),
        Component(
            name="worker",
            argv=[PYTHON, "-m", "workers.main"],
            address=f"rq queues on {config.redis_shown}",
            healthy=lambda: worker_alive(config.redis_url),
            env=env,
            exclusive=False,
        ),
    ]


def redis_server(config: Config, index: int) -> Component:
    """Redis 0 ("redis", the first master) and its replicas ("redis-2", ...; [redis] replicas): with
    Sentinel, which is master changes with failovers, so every server knows the master password."""
    r, port = config.redis, config.redis.port + index
    folder = config.var_path / ("redis" if index == 0 else f"redis-{index + 1}")
    replica_of = ["--replicaof", r.address, str(r.port)] if index else []
    return Component(
        name="redis" if index == 0 else f"redis-{index + 1}",
        argv=[
            "redis-server", str(redis_conf(config)), "--bind", r.address, "--port", str(port),
            "--dir", str(folder), "--daemonize", "no", "--save", "60 1", "--appendonly", "yes", "--logfile", "",
            *replica_of,
        ],
        address=f"{r.address}:{port}",
        healthy=lambda: redis_ping(f"redis://:{quote(config.redis_password, safe='')}@{r.address}:{port}/0"),
    )


def sentinel(config: Config, port: int) -> Component:
    """A Redis Sentinel watching the master ("sentinel-1", ...): a majority of them promote a replica
    when the master stops answering for 2 s. Each rewrites its own file (var/run/sentinel-<port>.conf)."""
    r = config.redis
    name = f"sentinel-{port - r.sentinel_port + 1}"
    return Component(
        name=name,
        argv=["redis-server", str(sentinel_conf(config, port)), "--sentinel"],
        address=f"{r.address}:{port} (sentinel)",
        healthy=lambda: redis_ping(f"redis://{r.address}:{port}/0"),
    )


# Where rtpengine's kernel module (xt_RTPENGINE, Debian's rtpengine-kernel-dkms) takes its orders;
# each forwarding table it holds shows as a folder beside it.
KERNEL_TABLES = Path("/proc/rtpengine")


def kernel_table(module_usable: bool, index: int) -> int:
    """rtpengine's `table`: with the kernel module there (and ours to drive), instance `index` forwards
    in the kernel through table `index` (two rtpengines cannot share a table), the packets never
    reaching userspace once a stream is up; without it, -1: every packet relayed in userspace."""
    return index if module_usable else -1


def table_of(argv: list[str]) -> int:
    """The --table=N of an rtpengine command line (-1, userspace, if it has none)."""
    tables = [arg.removeprefix("--table=") for arg in argv if arg.startswith("--table=")]
    return int(tables[-1]) if tables and tables[-1].lstrip("-").isdigit() else -1


def forwarding_mode(table: int, table_present: bool) -> str:
    """What `make status` says of an rtpengine told to use `table`: rtpengine falls back to userspace
    (logging "KERNEL FORWARDING DISABLED") when the table cannot be made."""
    if table < 0:
        return "userspace forwarding"
    if table_present:
        return f"kernel forwarding, table {table}"
    return f"userspace forwarding (kernel table {table} failed)"


def rtpengine_mode(argv: list[str]) -> str:
    table = table_of(argv)
    return forwarding_mode(table, table >= 0 and (KERNEL_TABLES / str(table)).is_dir())


def rtpengine(config: Config, index: int) -> Component:
    """This host's rtpengine `index`: "rtpengine" when the host has one, else rtpengine-1, -2, ..."""
    rtpe = config.rtpengine.instance(index)
    name = "rtpengine" if config.rtpengine.instances == 1 else f"rtpengine-{index + 1}"
    table = kernel_table(os.access(KERNEL_TABLES / "control", os.W_OK), index)
    return Component(
        name=name,
        argv=[
            "rtpengine", f"--config-file={ROOT / 'rtpengine/rtpengine.conf'}", f"--table={table}",
            f"--interface={rtpe.address}", f"--listen-ng={rtpe.ng_address}:{rtpe.ng_port}",
            f"--port-min={rtpe.port_min}", f"--port-max={rtpe.port_max}",
            f"--pidfile={config.var_path / 'run' / f'{name}.pid'}",
            f"--listen-http={rtpe.address}:{rtpe.metrics_port}",  # Prometheus: /metrics
        ],
        address=f"{rtpe.ng_address}:{rtpe.ng_port} (ng)",
        healthy=lambda: rtpengine_ping(rtpe.ng_address, rtpe.ng_port),
    )


def bridge_node(config: Config, index: int, env: dict[str, str]) -> Component:
    """This host's bridge node `index`: "bridge" when the host has one, else named as the node."""
    node = config.bridge.node(index)
    return Component(
        name="bridge" if config.bridge.nodes == 1 else node.id,
        argv=[PYTHON, "-m", "bridge.main", "--node", str(index)],
        address=f"{node.address}:{node.sip_port} ({node.id})",
        healthy=lambda: bridge_alive(config.redis_url, node.id),
        env=env,
        exclusive=False,  # its port is checked when it binds
    )


def redis_exporter(config: Config) -> Component:
    """Redis's metrics for Prometheus. Its password goes from the file into the exporter's environment
    (REDIS_PASSWORD) as it starts: never onto a command line, which any user can read."""
    redis_at = f"{config.redis.address}:{config.redis.port}"
    listen = f"{config.redis.address}:{config.redis.exporter_port}"
    script = 'REDIS_PASSWORD="$(cat "$1" 2>/dev/null)"; export REDIS_PASSWORD; shift; exec "$@"'
    return Component(
        name="redis-exporter",
        argv=["sh", "-c", script, "redis-exporter", str(config.redis_password_path), "prometheus-redis-exporter",
              f"-redis.addr=redis://{redis_at}", f"-web.listen-address={listen}"],
        address=f"http://{listen}/metrics",
        healthy=lambda: http_ok(f"http://{listen}/metrics"),
    )


def kamailio_edge_defines(config: Config) -> list[str]:
    """[edge] limits that are Kamailio module parameters (KEMI reads the rest from the settings)."""
    edge = config.edge
    defines = {
        "PIKE_SECONDS": str(edge.flood_seconds), "PIKE_REQUESTS": str(edge.flood_requests),
        "BAN_TABLE": f'"ipban=>size=10;autoexpire={edge.ban_seconds};"',
        "AUTHFAIL_TABLE": f'"authfail=>size=10;initval=0;autoexpire={edge.auth_failure_seconds};"',
        "DIALOG_LIFETIME": str(edge.dialog_lifetime), "MAX_CONTACTS": str(edge.max_contacts),
        "DIALOG_KEEPALIVE": str(edge.dialog_keepalive),
    }
    return [arg for name, value in defines.items() for arg in ("-A", f"{name}={value}")]


def kamailio_tls_defines(config: Config) -> list[str]:
    """The TLS listener of [sip] (kamailio.cfg's WITH_TLS block), if it has a port."""
    if not config.sip.tls_port:
        return []
    certificate, key = config.tls_files
    return ["-A", "WITH_TLS", "-A", f"TLS_PORT={config.sip.tls_port}", "-A", f'TLS_CERTIFICATE="{certificate}"',
            "-A", f'TLS_PRIVATE_KEY="{key}"']


def prepare_dirs(config: Config) -> None:
    for sub in ("redis", "run/kamailio", "log"):
        (config.var_path / sub).mkdir(parents=True, exist_ok=True)
    settings.ensure_secret(config.secret_path)
    settings.ensure_secret(config.redis_password_path)
    password = config.redis_password
    write_private(redis_conf(config), f"requirepass {password}\nmasterauth {password}\n")
    r = config.redis
    for index in range(1, r.replicas + 1):
        (config.var_path / f"redis-{index + 1}").mkdir(parents=True, exist_ok=True)
    quorum = len(r.sentinel_ports) // 2 + 1
    for port in r.sentinel_ports:
        # Written at each start: a sentinel rewrites it as it learns, and starts again from the settings.
        write_private(sentinel_conf(config, port), "\n".join([
            f"bind {r.address}", f"port {port}", f"dir {config.var_path / 'redis'}",
            f"sentinel monitor {r.master_name} {r.address} {r.port} {quorum}",
            f"sentinel auth-pass {r.master_name} {password}",
            f"sentinel down-after-milliseconds {r.master_name} 2000",
            f"sentinel failover-timeout {r.master_name} 10000", ""]))
    if config.sip.tls_port and not (config.sip.tls_certificate or config.sip.tls_private_key):
        ensure_self_signed(*config.tls_files, config.sip.address)


def sentinel_conf(config: Config, port: int) -> Path:
    return config.var_path / "run" / f"sentinel-{port}.conf"


def ensure_self_signed(certificate: Path, key: Path, address: str) -> None:
    """A self-signed certificate for `address` (an IP as subjectAltName) and its key (owner-only),
    unless both exist. Made beside and renamed into place, the key first: a start that finds the
    certificate finds its key."""
    if certificate.exists() and key.exists():
        return
    certificate.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    stem = f".{os.getpid()}"
    new_key, new_certificate = key.with_name(key.name + stem), certificate.with_name(certificate.name + stem)
    kind = "IP" if address.replace(".", "").isdigit() or ":" in address else "DNS"
    os.close(os.open(new_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))  # owner-only before it holds a key
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "825", "-subj", f"/CN={address}",
         "-addext", f"subjectAltName={kind}:{address}", "-keyout", str(new_key), "-out", str(new_certificate)],
        check=True, capture_output=True)
    os.replace(new_key, key)
    os.replace(new_certificate, certificate)


def redis_conf(config: Config) -> Path:
    """Redis's own settings file: its password stays off the command line (which any user can read)."""
    return config.var_path / "run" / "redis.conf"


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def missing_programs() -> list[str]:
    wanted = ("redis-server", "rtpengine", "kamailio", "prometheus-redis-exporter")
    return [p for p in wanted if shutil.which(p) is None]


# Health checks: each answers within about a second and never raises.


def redis_ping(url: str) -> bool:
    import redis

    from store import live

    try:
        return bool(live.connect(url, timeout=1).ping())
    except redis.RedisError:
        return False


def rtpengine_ping(host: str, port: int) -> bool:
    cookie = uuid.uuid4().hex[:12].encode()
    reply = _udp_exchange(host, port, cookie + b" d7:command4:pinge")
    return reply is not None and reply.startswith(cookie) and b"pong" in reply


def sip_options_ok(host: str, port: int) -> bool:
    tag = uuid.uuid4().hex[:10]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        local_port = sock.getsockname()[1]
        message = (
            f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {host}:{local_port};branch=z9hG4bK{tag};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:health@{host}>;tag={tag}\r\n"
            f"To: <sip:{host}:{port}>\r\n"
            f"Call-ID: health-{tag}\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
        reply = _exchange(sock, host, port, message)
    return reply is not None and reply.startswith(b"SIP/2.0 200")


def bridge_alive(url: str, node_id: str) -> bool:
    import redis

    from store import live

    try:
        return any(node.id == node_id for node in live.live_nodes(live.connect(url, timeout=1)))
    except redis.RedisError:
        return False


def worker_alive(url: str) -> bool:
    import redis
    from rq import Worker

    from store import live

    try:
        client = live.queue_connection(url, timeout=1)
        return any(
            w.get_state() != "suspended" and w.last_heartbeat is not None
            and (datetime.now(UTC) - w.last_heartbeat.replace(tzinfo=UTC)).total_seconds() < 60
            for w in Worker.all(connection=client)
        )
    except redis.RedisError:
        return False


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _udp_exchange(host: str, port: int, payload: bytes) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        return _exchange(sock, host, port, payload)


def _exchange(sock: socket.socket, host: str, port: int, payload: bytes) -> bytes | None:
    sock.settimeout(1.0)
    try:
        sock.sendto(payload, (host, port))
        return sock.recv(65535)
    except OSError:
        return None
