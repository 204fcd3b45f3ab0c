"""`python -m web.admin` (`make admin`): make an admin account, or give an existing one a new
password (and make it an enabled admin again: the way back in for whoever runs the machine).

Asks for the login name (default `admin`, the built-in account that has no password until
this) and the password, twice, in the terminal. For scripts: KAMCONF_ADMIN_PASSWORD (and
optionally KAMCONF_ADMIN_NAME) instead. Migrates the database first if needed.
"""

from __future__ import annotations

import getpass
import os
import sys

from sqlalchemy.exc import SQLAlchemyError

import settings
from conference.fields import FieldError
from store.accounts import BUILTIN_ADMIN, AccountRepository, validate_new
from store.bootstrap import BootstrapError, load_config, migrate, one_line, shown_url
from store.sql import StoreUnavailableError, make_sessions

NAME_ENV, PASSWORD_ENV = "KAMCONF_ADMIN_NAME", "KAMCONF_ADMIN_PASSWORD"


class AdminError(Exception):
    """A one-line reason, fit to print as it is."""


def ask() -> tuple[str, str]:
    """(name, password) from the environment or, failing that, the terminal."""
    name = os.environ.get(NAME_ENV, "").strip()
    password = os.environ.get(PASSWORD_ENV)
    if password is not None:
        return name or BUILTIN_ADMIN, password
    if not sys.stdin.isatty():
        raise AdminError(f"no terminal to ask in: set {PASSWORD_ENV} (and {NAME_ENV}, default {BUILTIN_ADMIN})")
    name = name or input(f"admin login name [{BUILTIN_ADMIN}]: ").strip() or BUILTIN_ADMIN
    password = getpass.getpass("password (10-128 characters): ")
    if getpass.getpass("the same password again: ") != password:
        raise AdminError("the two passwords differ; nothing was changed")
    return name, password


def set_admin(config: settings.Config, name: str, password: str) -> str:
    """Make or reset the admin; what was done, in one line."""
    try:
        validate_new({"name": name, "role": "admin", "password": password})
    except FieldError as exc:
        raise AdminError(f"{exc.field}: {exc.message}") from exc
    try:
        account, made = AccountRepository(make_sessions(migrate(config))).set_admin_password(name, password)
    except BootstrapError as exc:
        raise AdminError(str(exc)) from exc
    except (SQLAlchemyError, StoreUnavailableError) as exc:
        raise AdminError(f"database {shown_url(config.database_url)}: {one_line(exc.__cause__ or exc)}") from exc
    done = "created" if made else "now has this password and is an enabled admin"
    where = f"http://{config.web.address}:{config.web.port}/api/v1/session"
    return f"admin account {account.name} {done}; sign in with POST {where} (README: Accounts)"


def main() -> int:
    config = load_config("admin")
    if config is None:
        return 1
    try:
        name, password = ask()
        print(f"admin: {set_admin(config, name, password)}")
    except AdminError as exc:
        print(f"admin: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("\nadmin: nothing was changed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
