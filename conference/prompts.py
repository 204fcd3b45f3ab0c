"""Voice prompts: which sound pieces say what, in English and Russian.

The catalogue (prompts/<language>.toml, read by the caller) holds the words and,
for most pieces, the recordings of Debian's Asterisk core sounds that say them;
this module turns it into the pieces to make (each from recordings, or from its
text by speech synthesis where no recording says it), and a sentence such as
"there are 22 other participants" into the pieces to play, with Russian plural
forms. Pure: no files, no synthesis.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LANGUAGES = ("en", "ru")
MAX_COUNT = 999

# Every prompt a catalogue must define; the bridge plays them by these ids.
PROMPTS = (
    "welcome", "enter_pin", "wrong_pin", "too_many_attempts", "waiting_for_admin", "only_participant",
    "participant_joined", "participant_left", "conference_full", "ended_by_admin", "recording_notice",
    "only_one_other", "count_intro", "noun_one", "noun_few", "noun_many",
    "trying_to_get_through", "number_busy", "no_answer", "number_unavailable", "conference_locked",
    "entry_locked", "entry_unlocked", "all_muted", "all_unmuted", "conference_over", "conference_extended",
    "enter_code", "conference_unavailable", "reconnecting", "enter_password",
    # a participant's own keys (conference.keypad.OwnKey) and the raised hand
    "muted", "unmuted", "muted_by_moderator", "listen_only", "talk_quieter", "talk_louder", "hear_quieter",
    "hear_louder", "hand_raised", "hand_lowered", "hand_raised_notice", "no_raised_hands", "hand_unmuted",
    "help_keys", "help_moderator",
    # the lobby
    "lobby_wait", "lobby_knock", "lobby_admitted", "lobby_empty",
    # the end time
    "end_warning", "no_end_time",
    # voice menus (conference.menus)
    "menu_choose", "menu_invalid", "menu_closed", "goodbye",
)


# Pieces that are tones, made with every language's set and played by the same ids.
TONES = ("beep",)  # after "enter the conference code": type now


class CatalogueError(ValueError):
    pass


def plural_form(n: int, language: str) -> str:
    """"one", "few" or "many": which noun form follows the number n."""
    if language == "ru":
        if 11 <= n % 100 <= 14:
            return "many"
        if n % 10 == 1:
            return "one"
        return "few" if 2 <= n % 10 <= 4 else "many"
    return "one" if n == 1 else "many"


def count_sentence(n: int, language: str) -> list[str]:
    """Piece ids that say "there are n other participants" (1 <= n <= 999). One other has a
    sentence of its own in both languages (a recording says it whole)."""
    if not 1 <= n <= MAX_COUNT:
        raise ValueError(f"cannot announce {n} participants")
    if n == 1:
        return ["only_one_other"]
    pieces = ["count_intro"]
    if n >= 100:
        pieces.append(f"hundreds_{n // 100}")
    if n % 100:
        pieces.append(f"number_{n % 100}")
    pieces.append(f"noun_{plural_form(n, language)}")
    return pieces


def pieces(catalogue: Mapping[str, Any]) -> dict[str, str]:
    """Every piece id of a language with the text to synthesize for it."""
    texts = dict(catalogue.get("prompts", {}))
    missing = [p for p in PROMPTS if not isinstance(texts.get(p), str) or not texts[p].strip()]
    if missing:
        raise CatalogueError(f"catalogue lacks prompts: {', '.join(missing)}")
    numbers = catalogue.get("numbers", {})
    units, teens, tens, hundreds = (list(numbers.get(k, [])) for k in ("units", "teens", "tens", "hundreds"))
    if (len(units), len(teens), len(tens), len(hundreds)) != (9, 10, 8, 9):
        raise CatalogueError("numbers needs 9 units, 10 teens, 8 tens and 9 hundreds")
    joiner = str(numbers.get("tens_joiner", " "))
    for n in range(1, 100):
        texts[f"number_{n}"] = _words(n, units, teens, tens, joiner)
    for k in range(1, 10):
        texts[f"hundreds_{k}"] = hundreds[k - 1]
    return texts


def _words(n: int, units: list[str], teens: list[str], tens: list[str], joiner: str) -> str:
    if n < 10:
        return units[n - 1]
    if n < 20:
        return teens[n - 10]
    ten, unit = divmod(n, 10)
    return tens[ten - 2] + (joiner + units[unit - 1] if unit else "")


def recordings(catalogue: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Piece id -> the recordings (names under the catalogue's `sounds` folder, without
    ".wav"), played one after the other, that say it. Pieces missing here are synthesized
    from their text. Numbers come from the recorded digits: 1-20 and the tens are single
    recordings, 21 is "20" then "1"; hundreds only where the catalogue names a recording
    of the word "hundred" (`numbers.hundred`)."""
    found: dict[str, tuple[str, ...]] = {}
    for piece, names in dict(catalogue.get("recordings", {})).items():
        if piece not in PROMPTS:
            raise CatalogueError(f"recording for an unknown prompt: {piece}")
        if isinstance(names, str):
            names = [names]
        found[piece] = tuple(_recording_name(name) for name in names)
    for n in range(1, 100):
        ten, unit = divmod(n, 10)
        found[f"number_{n}"] = (f"digits/{n}",) if n <= 20 or not unit else (f"digits/{ten}0", f"digits/{unit}")
    hundred = catalogue.get("numbers", {}).get("hundred")
    if hundred is not None:
        for k in range(1, 10):
            found[f"hundreds_{k}"] = (f"digits/{k}", _recording_name(hundred))
    return found


def _recording_name(name: object) -> str:
    """A name inside the sounds folder: lower-case words and at most one subfolder, never a path out."""
    text = str(name)
    parts = text.split("/")
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
    if not 1 <= len(parts) <= 2 or any(not part or not set(part) <= allowed for part in parts):
        raise CatalogueError(f"not a recording name: {text!r}")
    return text
