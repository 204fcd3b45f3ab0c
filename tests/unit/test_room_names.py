"""No room-kind prefix is written outside conference.address (issue 8): everyone formats and parses through it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("conference", "kemi", "bridge", "web", "workers", "store")
KIND_LITERALS = frozenset({"call-", "conf-", "dial-in"})
OWNER = "conference/address.py"
# A value that only looks like a room name: how a participant joined a scheduled conference
# (the attendance API's "joined_by"), not a room.
NOT_ROOMS = {("conference/schedule.py", "JoinedBy")}


def offenders(path: Path) -> list[str]:
    name = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(), filename=name)
    exempt = {id(node) for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef) and (name, cls.name) in NOT_ROOMS
              for node in ast.walk(cls)}
    return [f"{name}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in KIND_LITERALS
            and id(node) not in exempt]


def test_room_kind_literals_live_only_in_the_address_module() -> None:
    found = [hit for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
             if path.relative_to(ROOT).as_posix() != OWNER for hit in offenders(path)]
    assert found == [], "room-kind literals outside conference.address:\n" + "\n".join(found)


def test_the_address_module_is_where_they_are() -> None:
    assert {hit.rsplit(" ", 1)[1].strip("'") for hit in offenders(ROOT / OWNER)} == KIND_LITERALS
