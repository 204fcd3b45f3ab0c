"""/api/v1/recordings: recorded conference sessions, listed and downloadable."""

from __future__ import annotations

from flask import current_app, jsonify, request, send_file
from flask.typing import ResponseReturnValue

from conference.fields import clean, digits
from conference.rooms import MAX_NUMBER_LENGTH
from store.accounts import Role
from store.recordings import RecordingRepository
from web.access import ApiBlueprint
from web.apidoc import documented
from web.errors import ApiError

blueprint = ApiBlueprint("recordings", __name__, role=Role.OPERATOR)
EXTENSION = "kamconf.recordings"
FILTERS = {"room": digits(MAX_NUMBER_LENGTH).means("Of this room only")}


def recordings() -> RecordingRepository:
    found: RecordingRepository = current_app.extensions[EXTENSION]
    return found


@blueprint.get("/recordings")
@documented("Recorded conference sessions, newest first", ["Recording"], query=FILTERS)
def list_recordings() -> ResponseReturnValue:
    return jsonify(recordings().list(clean(request.args.to_dict(), FILTERS).get("room")))


@blueprint.get("/recordings/<recording_id>")
@documented("One recording", "Recording")
def get_recording(recording_id: str) -> ResponseReturnValue:
    found = recordings().get(recording_id)
    if found is None:
        raise ApiError(404, "not_found", f"no recording {recording_id}")
    return jsonify(found)


@blueprint.get("/recordings/<recording_id>/audio")
@documented("The recording (WAV, mono, 16-bit)", {"type": "string"}, media="audio/wav")
def recording_audio(recording_id: str) -> ResponseReturnValue:
    path = recordings().audio(recording_id) if recordings().get(recording_id) else None
    if path is None:
        raise ApiError(404, "not_found", f"no recording {recording_id}")
    return send_file(path, mimetype="audio/wav", download_name=path.name)


@blueprint.get("/recordings/<recording_id>/tracks/<track>/audio")
@documented("One participant's track of the recording (WAV, mono, 16-bit), lined up with the mix",
            {"type": "string"}, media="audio/wav")
def track_audio(recording_id: str, track: str) -> ResponseReturnValue:
    filed = recordings().get(recording_id)
    listed = filed is not None and any(str(t["track"]) == track for t in filed["tracks"])
    path = recordings().track_audio(recording_id, int(track)) if listed else None
    if path is None:
        raise ApiError(404, "not_found", f"no track {track} of recording {recording_id}")
    return send_file(path, mimetype="audio/wav", download_name=path.name)
