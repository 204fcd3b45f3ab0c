"""The operator panel in a real browser: Debian's headless chromium, driven by Selenium through
Debian's chromedriver (given by path, so Selenium Manager never runs and nothing is downloaded),
against the whole stack with real SIP phones.

Every page visited is saved as a screenshot in the test's tmp folder and in the stack's
var/screenshots/, named by page."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

from store import live
from tests.support.audio import levels, write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
OPERATOR, OPERATOR_PASSWORD = "panel-op", "panel-operator-pw"
SPEAKER, LISTENER = 700.0, 1300.0  # the tones the two phones send
HEARD, SILENT = -25.0, -50.0

def until(check: Callable[[], bool], timeout: float) -> bool:
    """Polls `check` every 20 ms: the Live page's 2 s promise is measured finer than the stack's 0.1 s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                     "--lang=en-US", "--disable-gpu"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console: CSP violations, script errors
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


class Panel:
    """The browser on the stack's panel, saving a screenshot of each page it looks at."""

    def __init__(self, driver: webdriver.Chrome, stack: Stack, shots: Path) -> None:
        self.driver, self.stack, self.shots = driver, stack, shots
        self.base = f"http://{stack.config.web.address}:{stack.config.web.port}"
        self.kept = stack.config.var_path / "screenshots"
        for folder in (self.shots, self.kept):
            folder.mkdir(parents=True, exist_ok=True)

    def open(self, path: str) -> Panel:
        self.driver.get(self.base + path)
        return self

    def shot(self, page: str) -> None:
        self.driver.save_screenshot(str(self.shots / f"{page}.png"))
        shutil.copyfile(self.shots / f"{page}.png", self.kept / f"{page}.png")

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, css: str, timeout: float = 10) -> WebElement:
        """Polls the DOM for the element (never a fixed sleep)."""
        assert until(lambda: bool(self.all(css)), timeout), (css, self.driver.page_source[-3000:])
        return self.find(css)

    def type(self, css: str, text: str) -> None:
        field = self.find(css)
        field.clear()
        field.send_keys(text)

    def sign_in(self, name: str, password: str) -> None:
        self.driver.delete_all_cookies()
        self.open("/login")
        self.type("#name", name)
        self.type("#password", password)
        self.find("#sign-in").click()

    def text(self) -> str:
        return str(self.find("body").text)

    def console_faults(self) -> list[str]:
        """What the console said since last asked about the Content-Security-Policy or a script error."""
        said = [str(entry.get("message", "")) for entry in self.driver.get_log("browser")]
        return [line for line in said if "Content Security Policy" in line or "Uncaught" in line]


@pytest.fixture
def panel(browser: webdriver.Chrome, stack: Stack, tmp_path: Path) -> Panel:
    status, body = stack.request("POST", "/accounts", {"name": OPERATOR, "role": "operator",
                                                       "password": OPERATOR_PASSWORD})
    assert status in (201, 409), body  # 409: made by an earlier test of this module
    return Panel(browser, stack, tmp_path / "screenshots")


def test_sign_in_and_manage_rooms(panel: Panel) -> None:
    panel.open("/login")
    panel.shot("login")
    panel.sign_in(OPERATOR, "not-the-password")
    assert "Wrong name or password" in panel.wait("#login-error").text
    panel.shot("login-wrong-password")
    panel.sign_in(OPERATOR, OPERATOR_PASSWORD)
    panel.wait("#new-room")
    panel.shot("rooms")
    panel.find("#new-room").click()
    panel.wait("#room-form")
    panel.type("#number", "6110")
    panel.type("#name", "Panel test")
    panel.type("#user_pin", "12")
    panel.shot("room-new")
    panel.find("#save-room").click()
    assert panel.wait("#user_pin-error").text == "Enter 4 to 16 digits, or leave it empty."
    assert panel.find("#name").get_attribute("value") == "Panel test"  # kept beside the error
    panel.shot("room-new-error")
    make_room(panel, "6101", "1234")
    status, room = panel.stack.request("GET", "/rooms/6101")
    assert status == 200 and room["has_user_pin"] and not room["announce_count"] and room["mute_notifications"]
    panel.find("tr[data-room='6101'] a[href$='/edit']").click()
    panel.wait("#remove_user_pin")
    panel.shot("room-edit")
    panel.open("/rooms/6101/delete")
    panel.shot("room-delete")
    panel.find("#confirm-delete").click()
    panel.wait("#new-room")
    assert panel.stack.request("GET", "/rooms/6101")[0] == 404
    panel.open("/rooms?q=panel")  # 6110 was refused, 6101 is gone
    assert panel.wait("#no-rooms").text == "No rooms found."


def make_room(panel: Panel, number: str, pin: str) -> None:
    """A room with a participant PIN, made through the page: no count or join announcements, so a
    listener hears only the others' voices."""
    panel.open("/rooms/new")
    panel.type("#number", number)
    panel.type("#name", f"Room {number}")
    panel.type("#user_pin", pin)
    panel.find("#announce_count").click()  # on by default
    panel.find("#mute_notifications").click()
    panel.find("#save-room").click()
    panel.wait(f"tr[data-room='{number}']")
    assert f"Room {number} is created." in panel.text()


def test_live_page_follows_a_call_and_mutes_by_audio(
    panel: Panel, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack, client = panel.stack, live.connect(panel.stack.config.redis_url)
    panel.sign_in(OPERATOR, OPERATOR_PASSWORD)
    panel.wait("#new-room")
    make_room(panel, "6200", "4321")
    panel.open("/live")
    panel.wait("#live")
    panel.shot("live-empty")

    speaker = phones("speaker")
    speaker.call(stack.room_uri("6200"), play=write_tone(audio_dir / "speaker.wav", SPEAKER, 60))
    speaker.wait_state("CONFIRMED")
    speaker.dtmf("4321#")
    row = f"tr[data-caller^='sip:phone-{speaker.proc.pid}@']"
    assert until(lambda: any(p["caller"].startswith(f"sip:phone-{speaker.proc.pid}@")
                                for p in live.participants(client, "6200")), timeout=20)
    joined = time.monotonic()
    panel.wait(row, timeout=2)  # on the page within 2 s of joining, without a reload
    assert time.monotonic() - joined <= 2.0
    panel.wait(f"{row} .talking[data-talking='yes']", timeout=10)  # its tone: talking
    panel.shot("live-talking")

    listener = phones("listener")
    heard = audio_dir / "listener-heard.wav"
    listener.call(stack.room_uri("6200"), play=write_tone(audio_dir / "listener.wav", LISTENER, 60), record=heard)
    listener.wait_for("media")
    start = time.monotonic()  # the listener's recording starts with its media
    listener.dtmf("4321#")
    stack.wait_in_conference("6200", 2)
    panel.wait(f"tr[data-caller^='sip:phone-{listener.proc.pid}@']", timeout=2)
    time.sleep(3)  # what the listener hears before the mute, recorded
    muted = time.monotonic() - start
    panel.find(f"{row} button[data-op='mute']").click()
    panel.wait(f"{row} button[data-op='unmute']", timeout=5)
    assert panel.find(f"{row}").get_attribute("data-state") == "muted"
    panel.shot("live-muted")
    time.sleep(3)  # what the listener hears after it
    after = time.monotonic() - start

    room = "section[data-room='6200']"
    panel.find(f"{room} button[data-op='start_recording']").click()
    panel.wait(f"{room} [data-recording='yes']", timeout=10)  # from the node's event, not the click
    panel.wait(f"{room} button[data-op='stop_recording']")
    panel.type("#invite-6200", "12ab")
    panel.find(f"{room} button[data-op='invite']").click()
    assert "Digits only" in panel.wait("#invite-6200-error").text  # next to the field
    panel.shot("live-recording")

    panel.find(f"{row} button[data-op='drop']").click()
    panel.driver.switch_to.alert.accept()  # "Hang up on ...?"
    assert speaker.wait_state("DISCONNECTED", 10)["code"] == 200  # a BYE from the bridge
    assert until(lambda: not panel.all(row), timeout=5)
    panel.find("section[data-room='6200'] button[data-op='end']").click()
    panel.driver.switch_to.alert.accept()  # "End the conference in room 6200 for everyone?"
    assert listener.wait_state("DISCONNECTED", 10)["code"] == 200  # ended by the bridge
    listener.wait_for("recorded", 15)
    assert levels(heard, [SPEAKER], muted - 2, muted)[SPEAKER] > HEARD
    assert levels(heard, [SPEAKER], muted + 1, after)[SPEAKER] < SILENT
    panel.wait("#nobody", timeout=10)  # the room left the page with its last participant
    panel.shot("live")
    assert panel.console_faults() == []


def sounds_named(panel: Panel, name: str) -> list[WebElement]:
    """The sound library's rows with `name`; none while the page is being replaced (the upload's
    redirect makes the rows found a moment before stale)."""
    try:
        return [row for row in panel.all("tr[data-sound]") if name in row.text]
    except StaleElementReferenceException:
        return []


def test_a_greeting_uploaded_through_the_page_is_picked_for_a_room(panel: Panel, audio_dir: Path) -> None:
    panel.sign_in(OPERATOR, OPERATOR_PASSWORD)
    panel.wait("#new-room")
    panel.open("/sounds")
    panel.type("#name", "Panel greeting")
    panel.find("#file").send_keys(str(write_tone(audio_dir / "greeting.wav", 880.0, 2.0)))
    panel.find("#upload").click()
    # The library may hold other sounds already (the Live page's test uploads one).
    assert until(lambda: bool(sounds_named(panel, "Panel greeting")), timeout=10)
    (row,) = sounds_named(panel, "Panel greeting")
    assert "greeting.wav" in row.text
    panel.shot("sounds")
    sound_id = row.get_attribute("data-sound")
    panel.open("/rooms/new")
    panel.type("#number", "6300")
    Select(panel.find("#greeting_sound_id")).select_by_value(str(sound_id))
    assert panel.find("#play-greeting_sound_id").is_enabled()
    assert not panel.find("#play-music_sound_id").is_enabled()  # the standard music: nothing to play here
    Select(panel.find("#music_sound_id")).select_by_value(str(sound_id))  # the same sound as the room's music
    assert panel.find("#play-music_sound_id").is_enabled()
    panel.find("#save-room").click()
    panel.wait("tr[data-room='6300']")
    room = panel.stack.request("GET", "/rooms/6300")[1]
    assert room["greeting_sound_id"] == room["music_sound_id"] == int(str(sound_id))
    panel.open("/sounds")
    panel.find(f"tr[data-sound='{sound_id}'] button[data-op='delete']").click()
    panel.driver.switch_to.alert.accept()
    assert "greeting or the music of room(s) 6300" in panel.wait(".flash.error").text  # refused while in use
    panel.shot("sounds-in-use")


def test_russian_labels_after_switching_the_language(panel: Panel) -> None:
    panel.sign_in(OPERATOR, OPERATOR_PASSWORD)
    panel.wait("#new-room")
    Select(panel.find("#language-choice")).select_by_value("ru")  # the script sends the form
    assert panel.wait("#nav-rooms").text in ("Rooms", "Комнаты")
    assert until(lambda: panel.find("#nav-rooms").text == "Комнаты", timeout=5)
    assert "Новая комната" in panel.text() and panel.find("html").get_attribute("lang") == "ru"
    panel.shot("rooms-ru")
    panel.open("/rooms/new")
    assert "PIN участника" in panel.text() and "Музыка во время ожидания" in panel.text()
    panel.shot("room-new-ru")
    panel.open("/live")
    assert panel.find("#nav-live").text == "Сейчас"
    panel.shot("live-ru")
    panel.open("/menus/new")
    assert "Часы работы" in panel.text() and "Клавиши" in panel.text()
    panel.shot("menu-new-ru")
    panel.open("/menus")
    assert "Новое голосовое меню" in panel.text()
    panel.shot("menus-ru")
    panel.open("/recordings")
    panel.shot("recordings-ru")
    panel.open("/extensions/new")
    assert "Прямой медиапоток" in panel.text()
    panel.driver.execute_script("arguments[0].scrollIntoView()", panel.find("#direct_media"))
    panel.shot("extension-new-ru")
    Select(panel.find("#language-choice")).select_by_value("en")
    assert until(lambda: panel.find("#nav-rooms").text == "Rooms", timeout=5)


def test_a_user_account_gets_403_on_operator_pages(panel: Panel) -> None:
    stack = panel.stack
    assert stack.request("POST", "/extensions", {"number": "2601", "password": "sip-secret-2601"})[0] == 201
    assert stack.request("POST", "/accounts", {"name": "2601", "role": "user"})[0] == 201
    panel.sign_in("2601", "sip-secret-2601")
    panel.wait("#sign-out")
    panel.shot("home-user")
    for path in ("/rooms", "/live"):
        panel.open(path)
        assert panel.wait("#error-status").text == "403"
    panel.shot("forbidden")
    panel.find("#about-link").click()  # the footer of every page, whatever the role
    assert until(lambda: "Allison Smith" in panel.text() and "asterisk-moh-opsound-wav" in panel.text(), timeout=5)
    panel.shot("about")
    # The session's stack is shared with other tests: what this one made goes.
    assert stack.request("DELETE", "/extensions/2601")[0] == 204


def test_an_admin_walks_every_page(panel: Panel) -> None:
    stack = panel.stack
    status, body = stack.request("POST", "/accounts", {"name": "panel-admin", "role": "admin",
                                                       "password": "panel-admin-pw"})
    assert status == 201, body
    panel.sign_in("panel-admin", "panel-admin-pw")
    panel.wait("#nav-accounts")
    panel.open("/extensions/new")
    panel.type("#number", "2603")
    panel.type("#password", "sip-secret-2603")
    panel.type("#display_name", "Anna")
    panel.find("#consult_merge").click()
    panel.shot("extension-new")
    panel.find("#save").click()
    panel.wait("tr[data-extension='2603']")
    panel.shot("extensions")
    panel.open("/trunks/new")
    panel.type("#name", "panel-carrier")
    panel.type("#gateway", "192.0.2.50:5060")
    panel.type("#sources", "192.0.2.50")
    panel.type("#inbound", "+74950000000 = 2603")
    panel.driver.execute_script("arguments[0].scrollIntoView()", panel.find("#direct_media"))
    panel.shot("trunk-new")
    panel.find("#save").click()
    panel.wait("tr[data-trunk='panel-carrier']")
    panel.shot("trunks")
    assert stack.request("GET", "/trunks/panel-carrier")[1]["inbound"] == {"+74950000000": "2603"}
    panel.open("/menus/new")
    panel.type("#number", "2650")
    panel.type("#greeting_text", "For Anna press one.")
    panel.type("#options", "1 = 2603")
    panel.type("#hours", "mon-fri 09:00-18:00")
    panel.type("#time_zone", "Europe/Moscow")
    panel.shot("menu-new")
    panel.find("#save").click()
    panel.wait("tr[data-menu='2650']")
    panel.shot("menus")
    assert stack.request("GET", "/menus/2650")[1]["options"] == {"1": "2603"}
    for page, path in (("recordings", "/recordings"), ("call-records", "/cdrs"), ("accounts", "/accounts"),
                       ("account-new", "/accounts/new")):
        panel.open(path)
        panel.wait("h1")
        assert "Traceback" not in panel.text()
        panel.shot(page)
    panel.open("/tokens")
    panel.type("#name", "ci")
    panel.find("#make-token").click()
    secret = panel.wait("#token-secret").text
    assert len(secret) > 20
    panel.shot("tokens")
    panel.open("/rooms/none-such/edit")
    assert panel.wait("#error-status").text == "404"
    panel.shot("not-found")
    assert panel.console_faults() == []  # nothing the policy blocked, no script failed
    for made in ("/trunks/panel-carrier", "/extensions/2603"):  # the stack is shared with other tests
        assert stack.request("DELETE", made)[0] == 204
