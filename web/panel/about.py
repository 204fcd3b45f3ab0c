"""The about page: what kamconf is made of, and the attribution its sounds' licences ask for
(README "Sounds and their licences"); every signed-in role sees it, linked from every page's footer."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from store.accounts import Role
from web.access import requires
from web.panel import blueprint


@blueprint.get("/about")
@requires(Role.USER)  # the lowest role: every signed-in account
def about() -> ResponseReturnValue:
    return render_template("about.html")
