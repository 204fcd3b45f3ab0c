"""Recordings (filter by room and period, play, download) and call records (filter, totals, CSV
export): read-only pages over the API's own repositories and filter rules (web.recordings, web.cdrs)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from conference.billing import Disposition
from conference.fields import FieldError
from store.accounts import Role
from web.access import requires
from web.cdrs import cdr_filter, cdrs
from web.panel import blueprint
from web.recordings import FILTERS, recordings

CDR_COLUMNS = ("start", "answer", "end", "kind", "caller", "callee", "billed_to", "disposition", "status",
               "billable_seconds", "call", "id", "node")
DISPOSITIONS = {Disposition.ANSWERED: _l("answered"), Disposition.BUSY: _l("busy"),
                Disposition.NO_ANSWER: _l("no answer"), Disposition.CANCELLED: _l("cancelled"),
                Disposition.FAILED: _l("failed")}


def _day(name: str, errors: dict[str, str]) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = _("Enter a date as YYYY-MM-DD.")
        return None


@blueprint.get("/recordings")
@requires(Role.OPERATOR)
def recordings_page() -> ResponseReturnValue:
    errors: dict[str, str] = {}
    room = request.args.get("room", "").strip()
    if room and not FILTERS["room"].accepts(room):  # the API's own rule
        errors["room"] = _("Enter a room number.")
    since, until = _day("since", errors), _day("until", errors)
    found = [] if errors else recordings().list(room or None)
    # Dates in ISO 8601 (UTC) sort as text: a day's recordings start with its date.
    found = [r for r in found if (since is None or r["start"][:10] >= since.isoformat())
             and (until is None or r["start"][:10] <= until.isoformat())]
    return render_template("recordings.html", recordings=found, errors=errors, args=request.args), \
        400 if errors else 200


def _cdr_query() -> dict[str, str]:
    """The page's filters as the API's query: empty fields left out, `until` a whole day included."""
    query = {k: v.strip() for k, v in request.args.items() if k in ("since", "until", "number", "extension",
                                                                     "disposition") and v.strip()}
    try:
        if "until" in query:
            query["until"] = (date.fromisoformat(query["until"]) + timedelta(days=1)).isoformat()
    except ValueError:
        pass  # cdr_filter refuses it, naming the field
    query["limit"] = "1000"
    return query


def _cdr_rows() -> tuple[list[dict[str, Any]], dict[str, str]]:
    try:
        return cdrs().list(cdr_filter(_cdr_query())), {}
    except FieldError as err:
        messages = {"since": _("Enter a date as YYYY-MM-DD."), "until": _("Enter a date as YYYY-MM-DD."),
                    "number": _("Enter a phone number: digits, optionally after +."),
                    "extension": _("Enter an extension number."), "disposition": _("Pick one of the outcomes.")}
        return [], {err.field or "": messages.get(err.field or "", _("The request could not be served."))}


@blueprint.get("/cdrs")
@requires(Role.OPERATOR)
def cdrs_page() -> ResponseReturnValue:
    rows, errors = _cdr_rows()
    totals = {"calls": len(rows), "answered": sum(1 for r in rows if r["disposition"] == Disposition.ANSWERED),
              "seconds": sum(r["billable_seconds"] or 0 for r in rows)}
    return render_template("cdrs.html", rows=rows, errors=errors, args=request.args, totals=totals,
                           dispositions=DISPOSITIONS), 400 if errors else 200


@blueprint.get("/cdrs.csv")
@requires(Role.OPERATOR)
def cdrs_csv() -> ResponseReturnValue:
    rows, errors = _cdr_rows()
    if errors:
        return cdrs_page()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CDR_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in CDR_COLUMNS])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=kamconf-calls.csv"})


def _cell(value: Any) -> str:
    """A spreadsheet must not run a cell as a formula: text starting so is quoted (numbers like +7... stay)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (text[:1] in ("+", "-") and not text[1:].replace(".", "").isdigit()):
        return "'" + text
    return text
