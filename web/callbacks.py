"""/api/v1/callbacks (operators): click-to-call. A bridge node calls the number and, once it answers,
puts it through to the destination, as it does a trunk's call-back number's callers (bridge.node).

Both numbers are judged by the number plan on an operator's rights, here and again by the node: an
outside number only with [conferences] operator_outside_calls. One number is called back at most
CLICK_PER_HOUR times an hour, whoever asks.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from conference import numberplan
from conference.fields import FieldError, Rule, clean, digits, matching, require
from conference.rooms import MAX_NUMBER_LENGTH
from store import live
from store.accounts import Role
from web.access import ApiBlueprint
from web.apidoc import documented
from web.errors import ApiError
from web.rooms import json_body
from web.services import InviteRefusedError, services

blueprint = ApiBlueprint("callbacks", __name__, role=Role.OPERATOR)
CLICK_PER_HOUR = 10
RULES: dict[str, Rule] = {
    "number": matching(f"\\+?[0-9]{{1,{MAX_NUMBER_LENGTH}}}", "digits, optionally after a +").means(
        "The number to call: an extension, or an outside number if operators may call out."),
    "destination": digits(MAX_NUMBER_LENGTH).means(
        "Where it is put through once it answers: a room, a voice menu, an extension, the dial-in number, an "
        "outside number if operators may call out."),
}


def validate(payload: Any) -> tuple[str, str]:
    fields = clean(payload, RULES)
    require(fields, "number", "destination")
    return str(fields["number"]), str(fields["destination"])


@blueprint.post("/callbacks")
@documented("Call a number and put it through to a destination once it answers (click-to-call, operator)",
            "CallbackStarted", status=202, body="CallbackCreate",
            errors={403: "An outside number while operator_outside_calls is off (forbidden, field number).",
                    503: "No bridge node is running (unavailable)."})
def create_callback() -> ResponseReturnValue:
    number, destination = validate(json_body())
    directory = live.Directory(services().client)
    rights = numberplan.operator(services().operator_outside_calls)
    decision = numberplan.decide(rights, number, directory)
    if isinstance(decision, numberplan.Refuse):
        raise InviteRefusedError(number, decision.code)
    if destination != services().dial_in and isinstance(numberplan.decide(rights, destination, directory),
                                                          numberplan.Refuse):
        raise FieldError("destination", "invalid_field", f"{destination} cannot be reached on an operator's rights")
    if not live.request_callback(services().client, number, destination, None, CLICK_PER_HOUR):
        raise ApiError(503, "unavailable", "no bridge node is running to place the call")
    return jsonify({"number": number, "destination": destination}), 202
