"""/api/v1/sounds: the sound library. Thin views; storage and conversion live in
store.sounds and store.audio, content sniffing in conference.audio_format.

Failures are exceptions that web.errors turns into the one JSON error shape.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from flask import current_app, jsonify, request, send_file, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from conference.audio_format import HEAD_BYTES, sniff
from conference.fields import FieldError, Rule, clean
from store.accounts import Role
from store.audio import RATES
from store.sounds import MIN_SECONDS, SoundInfo, SoundNotFoundError, SoundRepository, Upload
from web.access import ApiBlueprint
from web.apidoc import Body, documented
from web.errors import ApiError

blueprint = ApiBlueprint("sounds", __name__, role=Role.OPERATOR)

EXTENSION = "kamconf.sounds"
MAX_SOUND_BYTES = 25_000_000  # 25 MB of upload
# The whole multipart body may carry a little more than the file (boundaries, the name field).
MAX_UPLOAD_BODY = MAX_SOUND_BYTES + 64 * 1024
MAX_NAME_LENGTH = 100
MAX_FILENAME_LENGTH = 255
AUDIO = {"rate": Rule(lambda value: value in {str(rate) for rate in RATES}, f"one of {', '.join(map(str, RATES))}",
                      {"type": "integer", "enum": list(RATES), "default": RATES[0]}, "Hz")}


def library() -> SoundRepository:
    found: SoundRepository = current_app.extensions[EXTENSION]
    return found


def check_sound(field: str, sound_id: int | None, current: int | None = None) -> None:
    """A newly named sound (a greeting, a room's music) must be in the library (a storage fact, so
    checked here and not in the pure rules); one already in use stays acceptable."""
    if sound_id is not None and sound_id != current and not library().exists(sound_id):
        raise FieldError(field, "invalid_field", f"no sound {sound_id} in the library")


def public(sound: SoundInfo) -> dict[str, Any]:
    return {"id": sound.id, "name": sound.name, "original_filename": sound.original_filename,
            "format": sound.format, "duration_seconds": round(sound.duration_ms / 1000, 2),
            "size_bytes": sound.size_bytes, "created_at": sound.created_at.isoformat()}


def _sound_id(text: str) -> int:
    # A plain <sound_id> rule (not <int:...>) so any non-number answers our own 404.
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise SoundNotFoundError(text)
    return int(text)


def _display_text(text: str, limit: int) -> str:
    return "".join(c for c in text if unicodedata.category(c)[0] != "C").strip()[:limit]


def _uploaded_file() -> FileStorage:
    request.max_content_length = MAX_UPLOAD_BODY  # only this view takes more than the app's 64 KiB
    try:
        file = request.files.get("file")
    except RequestEntityTooLarge as exc:
        raise ApiError(413, "too_large", f"the file is over {MAX_SOUND_BYTES // 1_000_000} MB", "file") from exc
    if file is None:
        raise ApiError(400, "missing_field", "send the audio as multipart/form-data field 'file'", "file")
    return file


def _name(default: str, blank: bool = True) -> str:
    name = request.form.get("name")
    if name is None or (not blank and not name.strip()):
        return _display_text(default, MAX_NAME_LENGTH)
    if len(name) > MAX_NAME_LENGTH or _display_text(name, MAX_NAME_LENGTH) != name:
        raise ApiError(400, "invalid_field", f"up to {MAX_NAME_LENGTH} characters, no control characters "
                                             "or surrounding spaces", "name")
    return name


def _checked_upload(file: FileStorage) -> tuple[str, int]:
    """(kind, size) of an acceptable upload, judged by its content alone."""
    stream = file.stream
    head = stream.read(HEAD_BYTES)
    size = stream.seek(0, 2)
    stream.seek(0)
    if size == 0:
        raise ApiError(400, "invalid_field", "the file is empty", "file")
    if size > MAX_SOUND_BYTES:
        raise ApiError(413, "too_large", f"the file is over {MAX_SOUND_BYTES // 1_000_000} MB", "file")
    kind = sniff(head)
    if kind is None:
        raise ApiError(415, "unsupported_media_type", "the file is neither WAV nor MP3 audio", "file")
    return kind, size


def add_uploaded(blank_name: bool = True) -> SoundInfo:
    """The sound in this request's multipart body, checked by content and added to the library (the
    API's upload and the panel's). `blank_name` False: an empty name field means the file's name."""
    file = _uploaded_file()
    kind, size = _checked_upload(file)
    original = _display_text(file.filename or "", MAX_FILENAME_LENGTH)
    name = _name(original, blank_name)
    sounds = library()
    return sounds.add(Upload(sounds.stage(file.stream), kind, size, name, original))


@blueprint.post("/sounds")
@documented("Upload a sound (converted for the bridge)", "Sound", status=201,
            body=Body("SoundUpload", "multipart/form-data"), about="Nothing is kept of a refused upload.", errors={
                400: f"No file (missing_field), an empty one, audio that does not decode or lasts under "
                     f"{MIN_SECONDS} s (invalid_field); error.field is file. A bad name: invalid_field, name.",
                413: f"The file is over {MAX_SOUND_BYTES // 1_000_000} MB (too_large, field file).",
                415: "The file is neither WAV nor MP3 by content (unsupported_media_type, field file)."})
def upload_sound() -> ResponseReturnValue:
    sound = add_uploaded()
    return jsonify(public(sound)), 201, {"Location": url_for(".get_sound", sound_id=sound.id)}


@blueprint.get("/sounds")
@documented("List the sound library, oldest first", ["Sound"])
def list_sounds() -> ResponseReturnValue:
    return jsonify([public(sound) for sound in library().list()])


@blueprint.get("/sounds/<sound_id>")
@documented("One sound", "Sound")
def get_sound(sound_id: str) -> ResponseReturnValue:
    return jsonify(public(library().get(_sound_id(sound_id))))


@blueprint.get("/sounds/<sound_id>/audio")
@documented("The converted audio: mono 16-bit PCM WAV at the asked rate", {"type": "string"}, media="audio/wav",
            query=AUDIO)
def get_audio(sound_id: str) -> ResponseReturnValue:
    rate = clean(request.args.to_dict(), AUDIO).get("rate", str(RATES[0]))
    path = library().audio(_sound_id(sound_id), int(rate))
    return send_file(path, mimetype="audio/wav", download_name=path.name)


@blueprint.delete("/sounds/<sound_id>")
@documented("Delete a sound and its audio", status=204,
            errors={409: "A room's greeting_sound_id or music_sound_id is this sound (in_use; the message names "
                         "the rooms)."})
def delete_sound(sound_id: str) -> ResponseReturnValue:
    library().delete(_sound_id(sound_id))
    return "", 204
