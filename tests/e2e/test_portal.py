"""The employee portal in a real browser (Debian's headless chromium through Debian's chromedriver,
as tests/e2e/test_panel.py) against the whole stack with real SIP phones: an employee keeps a
contact, schedules a conference a few seconds ahead with two extensions (its own and a colleague
found in the directory), an outside number (a test trunk gateway) and the contact's address; sees
them join on the running conference's page, adds a fourth participant whom the colleague hears join,
mutes one, ends it; it is then past, with its attendance. Its mail went out in the page's language.
The dial-in service beeps after asking for the code.

Every page is saved as a screenshot in the test's tmp folder and in the stack's var/screenshots/."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.support.ui import Select

from stack.prompts import prompt_file
from stack.supervisor import wait_for
from tests.e2e.test_extensions_and_trunks import extension, gateway
from tests.e2e.test_panel import Panel, browser, until  # noqa: F401  # browser: the module's fixture
from tests.support.audio import duration, levels, similarity, write_tone
from tests.support.mail import Inbox
from tests.support.phone import TestPhone
from tests.support.stack import Stack
from tests.support.wall import same_day

OWNER, COLLEAGUE, OUTSIDE, LATE = 500.0, 900.0, 1300.0, 1700.0  # each phone's tone
OUTSIDE_NUMBER = "83012345678"


def rows(portal: Panel, state: str | None = None) -> list[str]:
    """The roster's participants (their callers), of one state if given. Read in the page at once:
    the page's script redraws the roster every second, so element handles go stale."""
    found = portal.driver.execute_script(
        "return Array.from(document.querySelectorAll('#participants-table tr[data-participant]'))"
        ".map(function (row) { return [row.dataset.caller, row.dataset.state]; });")
    return [str(caller) for caller, now in found or [] if state is None or now == state]


def click(portal: Panel, css: str) -> None:
    """Clicks an element of the redrawn roster, found and clicked in one step in the page."""
    assert portal.driver.execute_script(
        "var found = document.querySelector(arguments[0]); if (found) { found.click(); } return !!found;", css), css


def reload_until(portal: Panel, css: str, timeout: float) -> bool:
    def present() -> bool:
        portal.driver.refresh()
        return bool(portal.all(css))
    return until(present, timeout)


def test_an_employee_schedules_and_runs_a_conference_from_the_portal(
    browser: webdriver.Chrome, stack: Stack, phones: Callable[..., TestPhone],  # noqa: F811
    audio_dir: Path, inbox: Inbox, tmp_path: Path
) -> None:
    owner, owner_number = extension(stack, phones)
    colleague, colleague_number = extension(stack, phones, display_name="Portal Colleague")
    outside = gateway(stack, phones, "carrier-portal", prefixes=["83"])
    late, late_number = extension(stack, phones)
    status, body = stack.request("POST", "/accounts", {"name": owner_number, "role": "user"})
    assert status == 201, body
    portal = Panel(browser, stack, tmp_path / "screenshots")
    portal.sign_in(owner_number, f"pass-{owner_number}-word")
    portal.wait("#new-conference")
    Select(portal.find("#language-choice")).select_by_value("ru")  # mail goes out in the page's language
    portal.wait("html[lang='ru'] #new-conference")
    portal.shot("portal-my-conferences")

    portal.open("/portal/contacts").wait("#contact-form")
    portal.type("#contact-name", "Гость")
    portal.type("#contact-email", "portal-guest@example.org")
    portal.find("#add-contact").click()
    portal.wait("#contacts tr[data-contact]")
    portal.shot("portal-contacts")

    portal.open("/portal/schedule").wait("#schedule-form")
    portal.type("#topic", "Portal e2e")
    portal.type("#q", "portal colleague")
    portal.find("#search").click()  # the directory: found by name, ticked
    portal.wait(f"input[name=pick][value='number:{colleague_number}']:checked")
    assert portal.find("#topic").get_attribute("value") == "Portal e2e"  # kept across the search
    portal.find("input[name=pick][value='email:portal-guest@example.org']").click()
    portal.type("#others", OUTSIDE_NUMBER)
    zone, start, end = same_day(datetime.now(UTC) + timedelta(seconds=8), timedelta(minutes=30))
    for field, value in (("zone", zone), ("date", start.date().isoformat()), ("start", f"{start:%H:%M:%S}"),
                         ("end", f"{end:%H:%M:%S}")):
        portal.driver.execute_script("arguments[0].value = arguments[1]", portal.find(f"#{field}"), value)
    portal.shot("portal-schedule")
    portal.find("#save").click()
    portal.wait("#chair-password")
    code = re.sub(r".*/", "", portal.driver.current_url)
    chair, guest = portal.find("#chair-password").text, portal.find("#guest-password").text
    assert re.fullmatch("[0-9]{6}", chair) and re.fullmatch("[0-9]{6}", guest) and chair != guest
    portal.shot("portal-conference-planned")

    for phone in (owner, colleague, outside):
        phone.wait_for("incoming", 30)
    heard = audio_dir / "colleague.wav"
    owner.answer(play=write_tone(audio_dir / "owner.wav", OWNER, 120))
    colleague.answer(play=write_tone(audio_dir / "colleague-tone.wav", COLLEAGUE, 120), record=heard)
    answered = time.monotonic()  # the colleague's recording starts here
    outside.answer(play=write_tone(audio_dir / "outside.wav", OUTSIDE, 120))
    assert reload_until(portal, "#roster", 20)  # running now: the page has its roster
    assert until(lambda: len(rows(portal, "in_conference")) == 3, 20), rows(portal)  # the script redraws it
    portal.shot("portal-conference-running")

    portal.type("#invite-number", late_number)
    portal.find("#invite-form button[data-op=invite]").click()
    late.wait_for("incoming", 20)
    late.answer(play=write_tone(audio_dir / "late.wav", LATE, 120))
    assert until(lambda: len(rows(portal, "in_conference")) == 4, 20), rows(portal)
    joined = time.monotonic()
    portal.shot("portal-conference-four")

    muted = next(caller for caller in rows(portal) if OUTSIDE_NUMBER in caller)
    click(portal, f"#participants-table tr[data-caller='{muted}'] button[data-op=mute]")
    assert until(lambda: rows(portal, "muted") == [muted], 15), rows(portal, "muted")
    portal.shot("portal-conference-muted")
    time.sleep(max(0.0, 3.5 - (time.monotonic() - joined)))  # what the colleague hears with the fourth in
    portal.find("#conference-actions button[data-op=end]").click()
    portal.driver.switch_to.alert.accept()  # "End the conference for everyone?"
    for phone in (owner, colleague, outside, late):
        phone.wait_state("DISCONNECTED", 20)
    colleague.wait_for("recorded", 15)
    since = joined - answered  # in the colleague's recording: the page showed the fourth in
    assert duration(heard) > since + 3.0
    with_late = levels(heard, [LATE, OWNER], since + 0.5, since + 3.0)
    assert min(with_late.values()) > -25.0, with_late  # the fourth is heard: it joined

    assert reload_until(portal, "#state[data-state=past]", 20)
    assert until(lambda: len(portal.all(".attendance tbody tr")) >= 4, 1)
    portal.shot("portal-conference-past")
    portal.open("/portal?state=past").wait(f"tr[data-code='{code}']")
    portal.shot("portal-past")
    portal.open("/portal/history").wait(f"section[data-code='{code}'] .attendance")
    portal.shot("portal-history")
    portal.open("/portal/profile").wait("#profile-form")
    portal.shot("portal-profile")
    portal.open("/portal/help").wait("#help-keys")
    portal.shot("portal-help-ru")
    Select(portal.find("#language-choice")).select_by_value("en")
    portal.wait("html[lang='en'] #help-keys")
    portal.shot("portal-help-en")
    assert portal.console_faults() == []

    status, attended = stack.request("GET", f"/conferences/{code}/attendance")
    assert status == 200 and len(attended) == 4 and all(a["left_at"] for a in attended)
    assert wait_for(lambda: any(m["To"] == "portal-guest@example.org" for m in inbox.about(code)), timeout=20)
    mail = next(m for m in inbox.about(code) if m["To"] == "portal-guest@example.org")
    text = mail.get_body(preferencelist=("plain",))
    assert str(mail["Subject"]).startswith("Приглашение: Portal e2e") and text is not None
    assert f"наберите код конференции {code}" in text.get_content() and guest in text.get_content()


def test_the_dial_in_service_beeps_after_asking_for_the_code(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    caller = phones("beep-listener")
    heard = audio_dir / "dial-in.wav"
    asked = prompt_file("en", 8000, "enter_code")
    caller.call(f"sip:{stack.config.conferences.dial_in}@{stack.sip}", record=heard)
    caller.wait_state("CONFIRMED")
    time.sleep(duration(asked) + 1.5)  # the question, then the beep
    caller.hangup()
    caller.wait_for("recorded", 10)
    assert similarity(heard, asked) > 0.75
    assert similarity(heard, prompt_file("en", 8000, "beep")) > 0.75


def test_the_owner_opts_out_of_the_guest_password_with_the_forms_box(
    browser: webdriver.Chrome, stack: Stack, phones: Callable[..., TestPhone], tmp_path: Path  # noqa: F811
) -> None:
    _, number = extension(stack, phones)
    status, body = stack.request("POST", "/accounts", {"name": number, "role": "user"})
    assert status == 201, body
    portal = Panel(browser, stack, tmp_path / "screenshots")
    portal.sign_in(number, f"pass-{number}-word")
    portal.wait("html[lang='en'] #new-conference")
    portal.open("/portal/schedule").wait("#schedule-form")
    assert portal.find("label:has(#open_dial_in)").text.startswith("Open dial-in")
    assert not portal.find("#open_dial_in").is_selected()  # a guest password unless the owner says otherwise
    portal.type("#topic", "Open door")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    for field, value in (("zone", "UTC"), ("date", tomorrow), ("start", "10:00:00"), ("end", "11:00:00")):
        portal.driver.execute_script("arguments[0].value = arguments[1]", portal.find(f"#{field}"), value)
    portal.find("#open_dial_in").click()
    portal.shot("portal-schedule-open-dial-in")
    portal.find("#save").click()
    portal.wait("#guest-password")
    code = re.sub(r".*/", "", portal.driver.current_url)
    assert portal.find("#guest-password").text == "none: open dial-in"
    assert re.fullmatch("[0-9]{6}", portal.find("#chair-password").text)  # the chair's is drawn all the same
    status, made = stack.request("GET", f"/conferences/{code}")
    assert status == 200 and (made["open_dial_in"], made["guest_password"]) == (True, None)

    Select(portal.find("#language-choice")).select_by_value("ru")
    portal.wait("html[lang='ru'] #guest-password")
    assert portal.find("#guest-password").text == "нет: открытый вход"
    portal.open(f"/portal/conferences/{code}/edit").wait("#schedule-form")
    assert portal.find("label:has(#open_dial_in)").text.startswith("Открытый вход")
    assert portal.find("#open_dial_in").is_selected()
    portal.find("#open_dial_in").click()  # changed its mind: guests need a password after all
    portal.find("#save").click()
    portal.wait("#guest-password")
    assert re.fullmatch("[0-9]{6}", portal.find("#guest-password").text)
    status, closed = stack.request("GET", f"/conferences/{code}")
    assert status == 200 and closed["open_dial_in"] is False and closed["guest_password"]
    assert portal.console_faults() == []
