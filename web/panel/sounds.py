"""Sounds: the library (upload, listen, delete), through the API's own upload path (web.sounds):
the same checks of the content, the same size limit, the same refusal to delete a greeting or music in use."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from store.accounts import Role
from store.audio import AudioError
from store.sounds import MIN_SECONDS, SoundInUseError
from web.access import requires
from web.errors import ApiError
from web.panel import blueprint, takes_upload
from web.sounds import MAX_NAME_LENGTH, MAX_SOUND_BYTES, MAX_UPLOAD_BODY, add_uploaded, library


def _page(errors: dict[str, str] | None = None, name: str = "", status: int = 200) -> ResponseReturnValue:
    return render_template("sounds.html", sounds=library().list(), errors=errors or {}, name=name,
                           max_mb=MAX_SOUND_BYTES // 1_000_000, max_name=MAX_NAME_LENGTH,
                           max_bytes=MAX_SOUND_BYTES), status


@blueprint.get("/sounds")
@requires(Role.OPERATOR)
def sounds() -> ResponseReturnValue:
    return _page()


@blueprint.post("/sounds")
@requires(Role.OPERATOR)
@takes_upload(MAX_UPLOAD_BODY)
def upload_sound() -> ResponseReturnValue:
    try:
        sound = add_uploaded(blank_name=False)
    except (ApiError, AudioError) as err:
        field, message = upload_error(err)
        return _page({field: message}, request.form.get("name", "")[:MAX_NAME_LENGTH], 400)
    flash(_("Sound “%(name)s” is added.", name=sound.name))
    return redirect(url_for("panel.sounds"))


def upload_error(err: ApiError | AudioError) -> tuple[str, str]:
    """(the field, what to say next to it) for a refused upload."""
    if isinstance(err, AudioError):
        return "file", _("The file could not be read as audio, or it lasts under %(seconds)s s.",
                         seconds=MIN_SECONDS)
    if err.field == "name":
        return "name", _("Up to %(max)d characters, without control characters or spaces around.",
                         max=MAX_NAME_LENGTH)
    said = {413: _("The file is over %(mb)d MB.", mb=MAX_SOUND_BYTES // 1_000_000),
            415: _("The file is neither WAV nor MP3 audio.")}
    if err.error_id == "missing_field":
        return "file", _("Choose a file.")
    return "file", said.get(err.status, _("The file is empty."))


@blueprint.post("/sounds/<sound_id>/delete")
@requires(Role.OPERATOR)
def delete_sound(sound_id: str) -> ResponseReturnValue:
    if not (sound_id.isascii() and sound_id.isdigit() and len(sound_id) <= 18):
        return redirect(url_for("panel.sounds"))
    try:
        library().delete(int(sound_id))
    except SoundInUseError as err:
        flash(_("This sound is the greeting or the music of room(s) %(rooms)s: pick another sound there first.",
                rooms=", ".join(err.rooms)), "error")
    else:
        flash(_("The sound is deleted."))
    return redirect(url_for("panel.sounds"))
