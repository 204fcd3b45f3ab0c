from __future__ import annotations

import tomllib

import pytest

from conference.prompts import PROMPTS, CatalogueError, count_sentence, pieces, plural_form, recordings
from stack.prompts import CATALOGUES


def catalogue(language: str) -> dict:
    with (CATALOGUES / f"{language}.toml").open("rb") as handle:
        return tomllib.load(handle)


@pytest.mark.parametrize(("n", "form"), [
    (1, "one"), (2, "few"), (4, "few"), (5, "many"), (11, "many"), (12, "many"), (14, "many"), (20, "many"),
    (21, "one"), (22, "few"), (25, "many"), (101, "one"), (111, "many"), (112, "many"), (122, "few"),
    (999, "many"), (991, "one"), (914, "many"),
])
def test_russian_plural_forms(n: int, form: str) -> None:
    assert plural_form(n, "ru") == form


def test_english_plural_forms() -> None:
    assert [plural_form(n, "en") for n in (1, 2, 21, 101)] == ["one", "many", "many", "many"]


def test_count_sentences() -> None:
    assert count_sentence(1, "en") == count_sentence(1, "ru") == ["only_one_other"]
    assert count_sentence(22, "ru") == ["count_intro", "number_22", "noun_few"]
    assert count_sentence(100, "en") == ["count_intro", "hundreds_1", "noun_many"]
    assert count_sentence(311, "ru") == ["count_intro", "hundreds_3", "number_11", "noun_many"]
    assert count_sentence(999, "ru") == ["count_intro", "hundreds_9", "number_99", "noun_many"]


@pytest.mark.parametrize("n", [0, 1000, -1])
def test_counts_outside_1_to_999_are_refused(n: int) -> None:
    with pytest.raises(ValueError):
        count_sentence(n, "en")


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_sentence_up_to_999_uses_only_catalogue_pieces(language: str) -> None:
    texts = pieces(catalogue(language))
    assert set(PROMPTS) <= set(texts)
    for n in range(1, 1000):
        assert all(piece in texts for piece in count_sentence(n, language)), n


def test_number_words() -> None:
    ru, en = pieces(catalogue("ru")), pieces(catalogue("en"))
    assert (ru["number_22"], ru["number_40"], ru["number_11"], ru["hundreds_2"]) == ("двадцать два", "сорок",
                                                                                      "одиннадцать", "двести")
    assert (en["number_22"], en["number_90"], en["number_7"]) == ("twenty-two", "ninety", "seven")
    russian = " ".join(ru[p] for p in count_sentence(122, "ru"))
    assert russian == "В конференции сто двадцать два других участника."  # noqa: RUF001


def test_incomplete_catalogues_are_refused() -> None:
    broken = catalogue("en")
    del broken["prompts"]["welcome"]
    with pytest.raises(CatalogueError, match="welcome"):
        pieces(broken)
    short = catalogue("en")
    short["numbers"]["tens"] = short["numbers"]["tens"][:-1]
    with pytest.raises(CatalogueError):
        pieces(short)


def played(n: int, language: str) -> list[str]:
    """The recordings (or, for a piece no recording says, "espeak:<piece>") that say n others."""
    recorded = recordings(catalogue(language))
    said: list[str] = []
    for piece in count_sentence(n, language):
        said += recorded.get(piece, (f"espeak:{piece}",))
    return said


def test_counts_are_said_by_recorded_digits_with_each_languages_plural() -> None:
    assert played(21, "ru") == ["conf-thereare", "digits/20", "digits/1", "espeak:noun_one"]
    assert played(5, "ru") == ["conf-thereare", "digits/5", "conf-otherinparty"]
    assert played(23, "ru") == ["conf-thereare", "digits/20", "digits/3", "espeak:noun_few"]
    assert played(12, "ru") == ["conf-thereare", "digits/12", "conf-otherinparty"]
    assert played(111, "ru") == ["conf-thereare", "espeak:hundreds_1", "digits/11", "conf-otherinparty"]
    assert played(21, "en") == ["conf-thereare", "digits/20", "digits/1", "conf-otherinparty"]
    assert played(340, "en") == ["conf-thereare", "digits/3", "digits/hundred", "digits/40", "conf-otherinparty"]
    assert played(1, "ru") == ["conf-onlyone"]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_fixed_prompt_but_these_is_recorded(language: str) -> None:
    """espeak-ng speaks only what no recording says: names, texts of a room, the star-terminated code,
    the participant's keys beyond mute (no recording says "louder" or lists our digit map), the end time
    (no recording says "five minutes left"), a voice menu's "choose an option", and in Russian its "we
    are closed" (no "call later" recording)."""
    spoken = set(PROMPTS) - set(recordings(catalogue(language)))
    assert spoken == {"enter_code", "noun_one", "noun_few", "muted_by_moderator", "listen_only", "talk_quieter",
                      "talk_louder", "hear_quieter", "hear_louder", "hand_raised", "hand_lowered",
                      "hand_raised_notice", "no_raised_hands", "hand_unmuted", "help_keys", "help_moderator",
                      "lobby_wait", "lobby_knock", "lobby_admitted", "lobby_empty", "end_warning", "no_end_time",
                      "menu_choose", *(("menu_closed",) if language == "ru" else ())}


@pytest.mark.parametrize("name", ["../etc/passwd", "/etc/passwd", "a/b/c", "Conf", "", "digits/", "x y"])
def test_recording_names_never_leave_the_sounds_folder(name: str) -> None:
    broken = catalogue("en")
    broken["recordings"]["welcome"] = [name]
    with pytest.raises(CatalogueError):
        recordings(broken)


def test_a_recording_for_an_unknown_prompt_is_refused() -> None:
    broken = catalogue("en")
    broken["recordings"]["welcme"] = ["hello"]
    with pytest.raises(CatalogueError, match="welcme"):
        recordings(broken)
