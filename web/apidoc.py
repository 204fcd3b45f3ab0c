"""What each /api/v1 view says about itself for the OpenAPI document (built by web.openapi):

    @blueprint.post("/rooms")
    @documented("Create a room", "Room", status=201, body="RoomCreate",
                errors={409: "The number is taken (duplicate, field number)."})
    def create_room() -> ResponseReturnValue: ...

Schemas are named (web.schemas); the errors every such operation can meet (400 for a body, 404
for a path parameter, 401/403 unless public, 413, 415, 500, 503) are added by the generator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from conference.fields import Rule

F = TypeVar("F", bound=Callable[..., Any])
Schema = Mapping[str, Any]
_ATTRIBUTE = "kamconf_openapi"


@dataclass(frozen=True)
class Body:
    schema: str  # a name in web.schemas
    media: str = "application/json"
    required: bool = True


@dataclass(frozen=True)
class Operation:
    summary: str
    returns: str | list[str] | Schema | None  # a schema's name, [name] for a list of them, a schema, or nothing
    status: int
    body: Body | None
    errors: Mapping[int, str]  # status -> when, besides those the generator adds
    query: Mapping[str, Rule]  # parameter -> its rule (the same the view checks it by)
    required_query: tuple[str, ...]
    media: str  # of what it returns
    about: str


def documented(summary: str, returns: str | list[str] | Schema | None = None, *, status: int = 200,
               body: Body | str | None = None, errors: Mapping[int, str] | None = None,
               query: Mapping[str, Rule] | None = None, required_query: tuple[str, ...] = (),
               media: str = "application/json", about: str = "") -> Callable[[F], F]:
    """Declare the view's operation; put it right under the route decorator."""
    operation = Operation(summary, returns, status, Body(body) if isinstance(body, str) else body, errors or {},
                          query or {}, required_query, media, about)

    def declare(view: F) -> F:
        setattr(view, _ATTRIBUTE, operation)
        return view
    return declare


def operation_of(view: Callable[..., Any]) -> Operation | None:
    found: Operation | None = getattr(view, _ATTRIBUTE, None)
    return found
