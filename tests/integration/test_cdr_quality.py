"""A billed leg's call quality travels with its record: spool file, SQL row, the CDR API."""

from __future__ import annotations

import json
import uuid

from flask.testing import FlaskClient

import settings
from conference.billing import Leg, LegKind, record
from conference.quality import Figures, Summary
from store.cdrs import CdrRepository
from store.spool import spool
from store.sql import make_engine, make_sessions


def test_the_quality_summary_is_filed_and_listed(config: settings.Config, api: FlaskClient,
                                                 auth: dict[str, str]) -> None:
    heard = Summary().add(Figures(0.0, 2.0, 20.0, 4.4)).add(Figures(4.0, 6.0, 20.0, 3.9))
    leg = Leg("1000", LegKind.INVITED, "201", "0611", "201")
    cdrs = config.var_path / "cdrs"
    clean = record(leg, uuid.uuid4().hex, "bridge-1", 200, 1_780_000_000.0, 1_780_000_002.0, 1_780_000_060.0,
                   cancelled=False, quality=heard)
    unanswered = record(leg, uuid.uuid4().hex, "bridge-1", 486, 1_780_000_100.0, None, 1_780_000_103.0,
                        cancelled=False)
    spool(cdrs, clean)
    spool(cdrs, unanswered)
    # A record spooled by a node that did not yet measure quality still files.
    old = {k: v for k, v in record(leg, uuid.uuid4().hex, "bridge-1", 200, 1_780_000_200.0, 1_780_000_201.0,
                                   1_780_000_260.0, cancelled=False).items() if "mos" not in k and "_ms_" not in k
           and "loss" not in k}
    (cdrs / f"{old['id']}.json").write_text(json.dumps(old))
    assert CdrRepository(make_sessions(make_engine(config.database_url)), cdrs).import_all() == 3

    listed = {r["id"]: r for r in api.get("/api/v1/cdrs", headers=auth).get_json()}
    assert {k: listed[str(clean["id"])][k] for k in heard.to_record()} == heard.to_record()
    assert listed[str(clean["id"])]["mos_min"] == 3.9 and listed[str(clean["id"])]["loss_percent_max"] == 4.0
    assert listed[str(unanswered["id"])]["mos_avg"] is None
    assert listed[str(old["id"])]["jitter_ms_max"] is None
