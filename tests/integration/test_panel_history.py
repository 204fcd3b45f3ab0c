"""The panel's history pages with Flask's test client: recordings filtered by room and period with a
player and a download link; call records filtered (each refusal next to its field), with totals and
a CSV export that no spreadsheet runs as formulas."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from flask.testing import FlaskClient

import settings
from conference.billing import Leg, LegKind
from store.accounts import Account
from store.cdrs import CdrRepository
from store.sql import make_engine, make_sessions
from tests.integration.test_cdrs import spooled
from tests.integration.test_panel import html, operator
from tests.integration.test_panel_pages import field_error
from tests.integration.test_recordings import RECORDING_ID, finished, repository

DAY = 1_780_000_000.0  # 2026-05-28


def test_recordings_are_filtered_played_and_downloaded(
    config: settings.Config, api: FlaskClient, people: dict[str, Account], tmp_path: Path
) -> None:
    finished(config, tmp_path)  # room 4100, started 2026-11-22
    repository(config).import_all()
    operator(api, people)
    page = html(api.get("/recordings?room=4100&since=2026-11-22&until=2026-11-22"))
    assert f'data-recording="{RECORDING_ID}"' in page
    assert f'src="/api/v1/recordings/{RECORDING_ID}/audio"' in page and f'download="{RECORDING_ID}.wav"' in page
    assert api.get(f"/api/v1/recordings/{RECORDING_ID}/audio").mimetype == "audio/wav"  # the session plays it
    assert 'id="no-recordings"' in html(api.get("/recordings?since=2026-11-23"))
    assert 'id="no-recordings"' in html(api.get("/recordings?room=4101"))
    bad = api.get("/recordings?room=abc&since=yesterday")
    assert bad.status_code == 400
    assert field_error(html(bad), "room") == "Enter a room number."
    assert field_error(html(bad), "since") == "Enter a date as YYYY-MM-DD."


def test_call_records_are_filtered_totalled_and_exported(
    config: settings.Config, api: FlaskClient, people: dict[str, Account]
) -> None:
    spooled(config, Leg("call-a", LegKind.ORIGINAL, "100", "89001", "100"), 200, DAY + 5, DAY)
    spooled(config, Leg("call-a", LegKind.ADDED, "100", "101", "100"), 486, None, DAY + 30)
    spooled(config, Leg("call-b", LegKind.ORIGINAL, "=cmd()", "+74950000000", "102"), 200, DAY + 86_403,
            DAY + 86_400)
    CdrRepository(make_sessions(make_engine(config.database_url)), config.var_path / "cdrs").import_all()
    operator(api, people)
    page = html(api.get("/cdrs"))
    assert page.count("data-cdr=") == 3 and "Calls: 3, answered: 2, billed: 2.2 min" in page
    first_day = html(api.get("/cdrs?since=2026-05-28&until=2026-05-28&disposition=&number="))
    assert first_day.count("data-cdr=") == 2  # `until` includes its whole day
    busy = html(api.get("/cdrs?extension=100&disposition=busy"))
    assert busy.count("data-cdr=") == 1 and "Calls: 1, answered: 0" in busy
    bad = api.get("/cdrs?number=abc")
    assert bad.status_code == 400 and field_error(html(bad), "number").startswith("Enter a phone number")
    export = api.get("/cdrs.csv?since=2026-05-29")
    assert export.mimetype == "text/csv" and "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [(r["caller"], r["callee"], r["disposition"]) for r in rows] == [("'=cmd()", "+74950000000", "answered")]
    assert 'href="/cdrs.csv?extension=100&amp;disposition=busy"' in busy
