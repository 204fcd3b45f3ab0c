"""Live state in Redis: the room projection, the bridge node registry and room affinity.

The only code that knows these keys. KEMI imports it inside Kamailio's
embedded Python, so it depends on nothing but `redis` and `conference`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import redis
from redis.sentinel import Sentinel

from conference.extensions import ExtensionSettings, TrunkSettings
from conference.menus import MenuSettings
from conference.placement import NodeStatus, choose_node, gone, place, run_state
from conference.roster import PRESENT, reason
from conference.schedule import LiveMeeting

ROOMS = "kamconf:rooms"  # hash: room number -> room settings (JSON)
NODES = "kamconf:nodes"  # set of node ids ever registered
NODE = "kamconf:node:{}"  # string with TTL: a node's status (JSON); absent = dead
AFFINITY = "kamconf:affinity:{}"  # string: room number -> node id

# Deletes a room's affinity only if it still points at the caller's node, so a
# node emptying a room never erases a newer choice made by KEMI.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


SENTINEL_SCHEME = "redis+sentinel"  # settings.Config.redis_url with [redis] replicas


@dataclass(frozen=True)
class SentinelAddress:
    sentinels: list[tuple[str, int]]
    master: str
    db: int
    password: str | None


def sentinel_address(url: str) -> SentinelAddress:
    """redis+sentinel://[:password@]host:port,host:port/master/db"""
    rest = url.removeprefix(f"{SENTINEL_SCHEME}://")
    netloc, _, path = rest.partition("/")
    login, _, hosts = netloc.rpartition("@")
    master, _, db = path.partition("/")
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":")
        sentinels.append((name, int(port)))
    return SentinelAddress(sentinels, master, int(db or 0), unquote(login.removeprefix(":")) or None)


def connect(url: str, timeout: float = 0.5) -> redis.Redis:
    return _client(url, timeout, decode=True)


def queue_connection(url: str, timeout: float | None = 0.5) -> redis.Redis:
    """A connection for RQ, which needs replies undecoded (None: no timeout, for a worker's blocking waits)."""
    return _client(url, timeout, decode=False)


def _client(url: str, timeout: float | None, decode: bool) -> redis.Redis:
    connecting = timeout or 2.0
    if not url.startswith(f"{SENTINEL_SCHEME}://"):
        return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=connecting,
                                    decode_responses=decode)
    # The master as the sentinels know it now: after a failover the next command finds the new one.
    where = sentinel_address(url)
    sentinel = Sentinel(where.sentinels, sentinel_kwargs={"socket_timeout": connecting,
                                                          "socket_connect_timeout": connecting})
    return sentinel.master_for(where.master, db=where.db, password=where.password, socket_timeout=timeout,
                               socket_connect_timeout=connecting, decode_responses=decode)


# Projections of SQL tables: rooms, extensions, trunks ----------------------------

MEETINGS = "kamconf:meetings"  # hash: dial-in code -> scheduled or current conference (JSON), for the bridge
EXTENSIONS = "kamconf:extensions"  # hash: extension number -> extension (JSON, digest HA1, never a password)
TRUNKS = "kamconf:trunks"  # hash: trunk name -> trunk (JSON)
MENUS = "kamconf:menus"  # hash: voice menu number -> menu (JSON)


def put_entry(client: redis.Redis, table: str, key: str, data: Mapping[str, Any]) -> None:
    client.hset(table, key, json.dumps(dict(data), sort_keys=True))


def delete_entry(client: redis.Redis, table: str, key: str) -> None:
    client.hdel(table, key)


def replace_table(client: redis.Redis, table: str, entries: Mapping[str, Mapping[str, Any]]) -> None:
    """Rebuild a whole projection atomically (at start, from SQL)."""
    pipe = client.pipeline(transaction=True)
    pipe.delete(table)
    if entries:
        pipe.hset(table, mapping={k: json.dumps(dict(v), sort_keys=True) for k, v in entries.items()})
    pipe.execute()


def get_entry(client: redis.Redis, table: str, key: str) -> dict[str, Any] | None:
    raw = client.hget(table, key)
    return None if raw is None else json.loads(raw)


def replace_meetings(client: redis.Redis, meetings: Iterable[LiveMeeting]) -> None:
    """The scheduled and current conferences, all of them (the worker's round)."""
    replace_table(client, MEETINGS, {meeting.code: meeting.as_dict() for meeting in meetings})


def meeting(client: redis.Redis, code: str) -> LiveMeeting | None:
    """The scheduled or current conference with dial-in code `code`; None: none (or no longer)."""
    data = get_entry(client, MEETINGS, code)
    return None if data is None else LiveMeeting.from_dict(data)


def entries(client: redis.Redis, table: str) -> dict[str, dict[str, Any]]:
    return {str(key): json.loads(raw) for key, raw in client.hgetall(table).items()}


class Directory:
    """conference.numberplan.Directory over the projections (raises redis.RedisError)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def is_room(self, number: str) -> bool:
        return bool(self.client.hexists(ROOMS, number))

    def is_menu(self, number: str) -> bool:
        return bool(self.client.hexists(MENUS, number))

    def menu(self, number: str) -> MenuSettings | None:
        data = get_entry(self.client, MENUS, number)
        return None if data is None else MenuSettings.from_dict(data)

    def extension(self, number: str) -> ExtensionSettings | None:
        data = get_entry(self.client, EXTENSIONS, number)
        return None if data is None else ExtensionSettings.from_dict(data)

    def trunks(self) -> list[TrunkSettings]:
        return [TrunkSettings.from_dict(data) for data in entries(self.client, TRUNKS).values()]


# Bridge nodes ----------------------------------------------------------------


def heartbeat(client: redis.Redis, node: NodeStatus, ttl: int,
              rooms: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None) -> None:
    """A node's registration for `ttl` seconds, with what it holds asserted again in the same round
    trip: each room's affinity (unless another node's) and its participants (room -> id -> participant)."""
    pipe = client.pipeline(transaction=False)
    pipe.sadd(NODES, node.id)
    pipe.set(NODE.format(node.id), json.dumps(node.as_dict()), ex=ttl)
    for room, present in (rooms or {}).items():
        pipe.set(AFFINITY.format(room), node.id, nx=True)
        if present:
            pipe.hset(PARTICIPANTS.format(room), mapping={k: json.dumps(dict(v), sort_keys=True)
                                                          for k, v in present.items()})
    pipe.execute()


def deregister(client: redis.Redis, node_id: str) -> None:
    pipe = client.pipeline(transaction=True)
    pipe.srem(NODES, node_id)
    pipe.delete(NODE.format(node_id))
    pipe.execute()


def live_nodes(client: redis.Redis) -> list[NodeStatus]:
    return node_registry(client)[0]


def node_registry(client: redis.Redis) -> tuple[list[NodeStatus], set[str]]:
    """The live nodes, and the ids of every node registered (live, or dead without deregistering)."""
    ids = sorted(client.smembers(NODES))
    if not ids:
        return [], set()
    raws = client.mget([NODE.format(i) for i in ids])
    return [NodeStatus.from_dict(json.loads(raw)) for raw in raws if raw], {str(i) for i in ids}


def claim_affinity(client: redis.Redis, number: str, node_id: str, previous: str | None) -> str:
    """Point the room at `node_id` unless another worker chose first; return the winner."""
    key = AFFINITY.format(number)
    if previous is None:
        if client.set(key, node_id, nx=True):
            return node_id
        return str(client.get(key) or node_id)
    # Replacing a dead node's affinity: only if it still names that node.
    with client.pipeline(transaction=True) as pipe:
        try:
            pipe.watch(key)
            current = pipe.get(key)
            if current != previous:
                return str(current or node_id)
            pipe.multi()
            pipe.set(key, node_id)
            pipe.execute()
            return node_id
        except redis.WatchError:
            return str(client.get(key) or node_id)


def home_node(client: redis.Redis, key: str) -> str | None:
    """The node a key (a room) lives on: its affinity if that node lives, else the least-loaded
    live node, claimed for it. None when no node lives."""
    node = place(affinity(client, key), live_nodes(client),
                 lambda node_id, previous: claim_affinity(client, key, node_id, previous))
    return None if node is None else node.id


def release_affinity(client: redis.Redis, number: str, node_id: str) -> None:
    client.eval(_RELEASE, 1, AFFINITY.format(number), node_id)


def affinity(client: redis.Redis, number: str) -> str | None:
    value = client.get(AFFINITY.format(number))
    return None if value is None else str(value)


# Room events and who is in a room now -------------------------------------------

EVENTS = "kamconf:events"  # stream of room events for the panel, metrics and history
# Its readers are live (the panel, the webhook dispatcher, a running room's failed calls) and what
# lasts is in SQL (call records, webhook deliveries): entries older than EVENTS_SECONDS are trimmed,
# so Redis's memory stays flat under steady calling (bench.soak), and at most EVENTS_MAXLEN are kept.
EVENTS_MAXLEN = 100_000
EVENTS_SECONDS = 15 * 60
PARTICIPANTS = "kamconf:participants:{}"  # hash: participant id -> participant (JSON)


def room_event(client: redis.Redis, kind: str, room: str, **fields: str | int | float | bool) -> None:
    """One entry of the event stream: joined, left, talking, ended, ..."""
    entry: dict[Any, Any] = {"type": kind, "room": room}
    entry.update({k: json.dumps(v) if isinstance(v, bool) else v for k, v in fields.items()})
    pipe = client.pipeline(transaction=False)
    pipe.xadd(EVENTS, entry, maxlen=EVENTS_MAXLEN, approximate=True)
    # Approximate: whole nodes of the stream go, so this costs nothing when none is old enough.
    pipe.xtrim(EVENTS, minid=f"{int((time.time() - EVENTS_SECONDS) * 1000)}-0", approximate=True)
    pipe.execute()


def put_participant(client: redis.Redis, room: str, participant_id: str, data: Mapping[str, Any]) -> None:
    client.hset(PARTICIPANTS.format(room), participant_id, json.dumps(dict(data), sort_keys=True))


def remove_participant(client: redis.Redis, room: str, participant_id: str) -> None:
    client.hdel(PARTICIPANTS.format(room), participant_id)


def drop_ghosts(client: redis.Redis) -> int:
    """Remove the participants of node runs that are gone (a node killed, or restarted: its calls
    died with it), each with its "left" event; how many. Any live node may sweep: a participant
    of a live run, or of a node Redis knows nothing of, is never touched."""
    nodes, registered = node_registry(client)
    ghosts = 0
    for key in client.scan_iter(match=PARTICIPANTS.format("*"), count=200):
        room = str(key)[len(PARTICIPANTS.format("")):]
        for participant_id, raw in client.hgetall(key).items():
            data = json.loads(raw)
            if not gone(run_state(str(data.get("run", "")), nodes, registered)):
                continue
            if client.hdel(key, participant_id):  # another node's sweep may have been first
                ghosts += 1
                room_event(client, "left", room, participant=str(participant_id), caller=str(data.get("caller", "")),
                           status=0, present=client.hlen(key), reason="node lost")
    return ghosts


def participants(client: redis.Redis, room: str) -> list[dict[str, Any]]:
    """The room's roster (conference.roster): those in it in order of joining, then those it calls."""
    raw = client.hgetall(PARTICIPANTS.format(room))
    # Callers in the lobby have not joined yet (joined_at null): listed after those in.
    return sorted((json.loads(v) for v in raw.values()),
                  key=lambda p: (p.get("joined_at") is None, p.get("joined_at") or 0, p.get("id", "")))


def rooms_with_participants(client: redis.Redis) -> list[str]:
    """The names of the rooms whose roster holds someone now (any kind), sorted."""
    prefix = PARTICIPANTS.format("")
    return sorted(str(key)[len(prefix):] for key in client.scan_iter(match=PARTICIPANTS.format("*"), count=200))


def present(client: redis.Redis, room: str) -> int:
    """How many are in the room (not those it still calls or greets)."""
    return sum(1 for p in participants(client, room) if p.get("state") in PRESENT)


def failed_calls(client: redis.Redis, room: str, lookback: int = 1000) -> list[dict[str, Any]]:
    """The calls the room placed that were not answered (the bridge's call_failed events among the
    `lookback` newest of the stream), the newest try of each number: number, SIP status, why
    (conference.roster.Reason), try."""
    found: dict[str, dict[str, Any]] = {}
    recent: Any = client.xrevrange(EVENTS, count=lookback)
    for _entry_id, fields in recent or []:
        if fields.get("type") == "call_failed" and fields.get("room") == room:
            number = str(fields.get("number", ""))
            status, attempt = str(fields.get("status", "")), str(fields.get("attempt", ""))
            code = int(status) if status.isdigit() and len(status) <= 3 else 0
            found.setdefault(number, {"number": number, "status": code, "reason": str(reason(code)),
                                      "attempt": int(attempt) if attempt.isdigit() and len(attempt) <= 6 else 0})
    return list(found.values())


RECORDING = "kamconf:recording"  # hash: room -> {"id": recording id, "node": node id} while it is recorded


def set_recording(client: redis.Redis, room: str, node_id: str, recording_id: str | None) -> None:
    if recording_id is None:
        client.hdel(RECORDING, room)
    else:
        client.hset(RECORDING, room, json.dumps({"id": recording_id, "node": node_id}))


def recordings_now(client: redis.Redis) -> dict[str, str]:
    """The rooms being recorded now: room -> recording id."""
    return {str(room): str(json.loads(raw)["id"]) for room, raw in client.hgetall(RECORDING).items()}


def forget_recordings(client: redis.Redis, node_id: str) -> None:
    """A node starting again records nothing yet: what it said before it stopped is gone."""
    mine = [room for room, raw in client.hgetall(RECORDING).items() if json.loads(raw).get("node") == node_id]
    if mine:
        client.hdel(RECORDING, *mine)


# PIN failures per caller and room, shared by every bridge node ---------------------
# `who` is conference.vouch.Vouched.lockout_key: an extension, a trunk's caller, or an address.

PIN_FAILURES = "kamconf:pinfail:{}:{}"  # sorted set of failure times
PIN_LOCK = "kamconf:pinlock:{}:{}"  # present while the caller is locked out of the room


ORIGINATIONS = "kamconf:originations:{}"  # calls the bridge placed for an extension this minute


def originated(client: redis.Redis, extension: str, window: int = 60) -> int:
    """Count one call placed on the extension's behalf (*8, #); how many within the window so far."""
    key = ORIGINATIONS.format(extension)
    pipe = client.pipeline(transaction=True)
    pipe.incr(key)
    pipe.expire(key, window, nx=True)
    return int(pipe.execute()[0])


def pin_failed(client: redis.Redis, room: str, who: str, now: float | None = None,
               limit: int = 10, window: int = 900) -> None:
    """Count a wrong PIN; more than `limit` within `window` seconds locks the caller out for `window`."""
    now = time.time() if now is None else now
    key = PIN_FAILURES.format(room, who)
    pipe = client.pipeline(transaction=True)
    pipe.zadd(key, {f"{now:.6f}": now})
    pipe.zremrangebyscore(key, 0, now - window)
    pipe.zcard(key)
    pipe.expire(key, window)
    failures = pipe.execute()[2]
    if failures > limit:
        client.set(PIN_LOCK.format(room, who), "1", ex=window)


def pin_locked(client: redis.Redis, room: str, who: str) -> bool:
    return bool(client.exists(PIN_LOCK.format(room, who)))


# Commands to a bridge node (from the worker), and launches done once ------------------

# Stream per node: {"op": "start" | "end" | "extended" | "lock", "code": ...} from the worker, or
# {"op": ..., "room": ..., "participant": ...} from an operator (room_command).
COMMANDS = "kamconf:commands:{}"
COMMANDS_MAXLEN = 1000
LAUNCHED = "kamconf:launched:{}"  # the bridge run a conference's start was handed to


def command(client: redis.Redis, node_id: str, **fields: str) -> None:
    entry: dict[Any, Any] = dict(fields)
    client.xadd(COMMANDS.format(node_id), entry, maxlen=COMMANDS_MAXLEN, approximate=True)


CALLED_BACK = "kamconf:called-back:{}"  # string with a 1 h TTL: calls back to a number this hour
CALLBACK_WINDOW = 3600


def request_callback(client: redis.Redis, number: str, destination: str, owner: str | None, per_hour: int) -> bool:
    """Have the least loaded live node call `number` back and put it through to `destination`, on
    `owner`'s rights (an extension; None: an operator's); at most `per_hour` times an hour to one
    number (the node counts). False: no node lives to do it."""
    node = choose_node(None, live_nodes(client))
    if node is None:
        return False
    command(client, node.id, op="callback", number=number, destination=destination, owner=owner or "",
            per_hour=str(per_hour))
    return True


def called_back(client: redis.Redis, number: str) -> int:
    """One more call back to `number`: how many there have been within the hour (the first starts it)."""
    key = CALLED_BACK.format(number)
    pipe = client.pipeline()
    pipe.incr(key)
    pipe.expire(key, CALLBACK_WINDOW, nx=True)
    count, _ = pipe.execute()
    return int(count)


def room_command(client: redis.Redis, room: str, op: str, participant: str = "", value: str = "") -> bool:
    """An operator's command (bridge.rooms.LiveRoom.command: "mute", "unmute", "drop" with a
    participant id; "lock", "unlock", "end", "start_recording", "stop_recording"; "play" with a
    sound id, "invite" with a number as `value`) to the node holding the room. False: not live now."""
    node_id = affinity(client, room)  # a scheduled conference's too: it is placed as a room
    if node_id is None:
        return False
    command(client, node_id, op=op, room=room, participant=participant, value=value)
    return True


def commands(client: redis.Redis, node_id: str, after: str) -> list[tuple[str, dict[str, str]]]:
    """Commands newer than `after` (a stream id), without waiting."""
    found: Any = client.xread({COMMANDS.format(node_id): after}, count=100)
    return [(str(entry_id), dict(fields)) for _, entries in found or [] for entry_id, fields in entries]


# Replaces the run a conference was handed to only if it is still the one the caller saw gone.
_RELAUNCH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0
"""


def launch(client: redis.Redis, code: str, revision: int, run: str, gone: str | None = None,
           ttl: int = 3 * 86400) -> bool:
    """Hand this revision of the conference to bridge run `run`: the first time (`gone` None), or
    again when the run it was handed to, `gone`, is gone. False: another worker did it first."""
    key = LAUNCHED.format(f"{code}:{revision}")
    if gone is None:
        return bool(client.set(key, run, nx=True, ex=ttl))
    return bool(client.eval(_RELAUNCH, 1, key, gone, run))


def launched(client: redis.Redis, code: str, revision: int) -> str | None:
    """The bridge run this revision of the conference was handed to; None: not started yet."""
    value = client.get(LAUNCHED.format(f"{code}:{revision}"))
    return None if value is None else str(value)


# Webhook endpoints resting after a failed try (workers.webhooks) --------------------------

WEBHOOK_RESTING = "kamconf:webhooks:resting:{}"  # present while the endpoint's next try waits


def rest_webhook(client: redis.Redis, endpoint_id: int, seconds: float) -> None:
    client.set(WEBHOOK_RESTING.format(endpoint_id), "1", px=max(1, round(seconds * 1000)))


def webhook_resting(client: redis.Redis, endpoint_id: int) -> bool:
    return bool(client.exists(WEBHOOK_RESTING.format(endpoint_id)))


def wake_webhook(client: redis.Redis, endpoint_id: int) -> None:
    client.delete(WEBHOOK_RESTING.format(endpoint_id))
