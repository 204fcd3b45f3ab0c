"""Which bridge node hosts a room: all legs of a room on one node, new rooms on the least loaded."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class NodeStatus:
    id: str
    address: str  # SIP host of the node
    port: int
    capacity: int
    load: int  # participants on the node now
    instance: str = ""  # this start of the node's process: a restarted node is a new run of it
    since: float = 0.0  # when this run started (Unix time)

    @property
    def run(self) -> str:
        """What calls and participants of this node are tagged with: they die with the run."""
        return run_of(self.id, self.instance)

    @property
    def sip_uri(self) -> str:
        return f"sip:{self.address}:{self.port}"

    @property
    def has_room(self) -> bool:
        return self.load < self.capacity

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NodeStatus:
        return cls(
            id=str(data["id"]),
            address=str(data["address"]),
            port=int(data["port"]),
            capacity=int(data["capacity"]),
            load=int(data["load"]),
            instance=str(data.get("instance", "")),
            since=float(data.get("since", 0.0)),
        )


def choose_node(affinity: str | None, nodes: Sequence[NodeStatus]) -> NodeStatus | None:
    """The room's node while it is alive (even when full: a room never spans nodes),
    else the live node with the most free capacity, else None."""
    by_id = {node.id: node for node in nodes}
    if affinity is not None and affinity in by_id:
        return by_id[affinity]
    candidates = [node for node in nodes if node.has_room]
    if not candidates:
        return None
    return min(candidates, key=lambda node: (node.load / max(node.capacity, 1), node.load, node.id))


def place(affinity: str | None, nodes: Sequence[NodeStatus],
          claim: Callable[[str, str | None], str]) -> NodeStatus | None:
    """`choose_node`, and a new choice recorded with `claim(node_id, previous)`, which answers the
    node that won: another KEMI worker or the scheduler may have placed the room first, and its
    choice is followed while that node lives."""
    node = choose_node(affinity, nodes)
    if node is None or node.id == affinity:
        return node
    winner = claim(node.id, affinity)
    return next((n for n in nodes if n.id == winner), node)


def relayed(home: str | None, here: str) -> bool:
    """Whether a dial-in caller on node `here` is carried by a relay leg to its scheduled conference,
    which lives on node `home` (its placement, as `place` claimed it): a room never spans nodes, so
    it joins here only where the conference is (or where nothing could be placed: Redis is gone)."""
    return home is not None and home != here


def run_of(node_id: str, instance: str) -> str:
    return f"{node_id}/{instance}"


class Run(StrEnum):
    ALIVE = "alive"
    REPLACED = "replaced"  # the node runs again, as a new run: the old one's calls are gone
    ABSENT = "absent"  # registered, but its heartbeat expired: dead (a clean stop deregisters)
    UNKNOWN = "unknown"  # not even registered: stopped cleanly, or Redis lost its data (then no judgement)


def run_state(run: str, nodes: Sequence[NodeStatus], registered: Collection[str]) -> Run:
    """How a run of a node stands among the live nodes and the node ids registered."""
    node_id = run.rpartition("/")[0]
    for node in nodes:
        if node.run == run:
            return Run.ALIVE
        if node.id == node_id:
            return Run.REPLACED
    return Run.ABSENT if node_id in registered else Run.UNKNOWN


SETTLE_SECONDS = 5.0  # Kamailio ends a gone run's calls within about 2 s of its successor's start


def settled(node: NodeStatus, now: float) -> bool:
    """Whether a node has run long enough that the calls of the run it replaced are ended, so that
    calling their people again does not find them still busy in those."""
    return now - node.since >= SETTLE_SECONDS


def gone(state: Run) -> bool:
    """Whether a run's calls and participants are certainly over."""
    return state in (Run.REPLACED, Run.ABSENT)
