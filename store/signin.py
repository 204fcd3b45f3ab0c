"""Signing in: checking a name and password, limiting guesses, and the sessions that follow.

Failure counters and sessions live in Redis (shared by every web worker, gone with their TTL).
The only code that knows these keys.

Guessing is limited per account name (ACCOUNT_FAILURES in WINDOW seconds) and per source
address (SOURCE_FAILURES); past either, sign-ins are refused with the seconds to wait. Every
attempt does the same work whatever its outcome (an argon2 verification, against a dummy hash
for an unknown name; an HA1 compare, against a dummy for an unknown extension), and the lock is
looked at only after it, so neither timing nor the answer tells an unknown name from a wrong
password, or a locked account from an unlocked one.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

import redis

from conference.extensions import ha1
from store.accounts import HASHER, Account, AccountRepository, Role, is_extension_name, password_matches

log = logging.getLogger("kamconf.signin")

WINDOW = 15 * 60  # seconds a failure counts
ACCOUNT_FAILURES = 5
SOURCE_FAILURES = 20
SESSION_SECONDS = 12 * 3600  # a working day; then sign in again

_FAILURES_OF_NAME = "kamconf:signin:failures:name:{}"  # int with TTL WINDOW
_FAILURES_OF_SOURCE = "kamconf:signin:failures:source:{}"
_SESSION = "kamconf:session:{}"  # hash with TTL: account, stamp, csrf; keyed by SHA-256 of the id


class LockedError(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")
        self.retry_after = retry_after


class WrongCredentialsError(Exception):
    """Unknown name, wrong password or disabled account: one error for all three."""


@dataclass(frozen=True)
class Limits:
    account_failures: int = ACCOUNT_FAILURES
    source_failures: int = SOURCE_FAILURES
    window: int = WINDOW


@dataclass(frozen=True)
class SessionRecord:
    account_id: int
    stamp: str  # AccountRepository.credential_stamp() when it began
    csrf: str


@functools.cache
def _dummy_hash() -> str:
    # Unknown names are verified against this, so they cost what a known one does.
    return HASHER.hash(secrets.token_hex(16))


_DUMMY_HA1 = secrets.token_hex(16)


class SignIn:
    def __init__(self, accounts: AccountRepository, client: redis.Redis, realm: str,
                 limits: Limits | None = None) -> None:
        self.accounts, self.client, self.realm = accounts, client, realm
        self.limits = limits or Limits()

    def sign_in(self, name: str, password: str, source: str) -> Account:
        """The account, if name and password are right and neither the name nor the source is locked."""
        name = name.lower()
        right = self._password_right(name, password)  # the full work first, whatever the lock says
        locked_for = self._locked_for(name, source)
        if locked_for:
            raise LockedError(locked_for)
        account = self._account(name, password) if right else None
        if account is None:
            self._count_failure(name, source)
            raise WrongCredentialsError()
        self.client.delete(_FAILURES_OF_NAME.format(name))
        return account

    def _password_right(self, name: str, password: str) -> bool:
        if is_extension_name(name):
            stored = self.accounts.extension_ha1(name)
            # Extensions keep only HA1 = MD5(number:realm:password) (what Kamailio checks): the
            # typed password is checked by computing its HA1, compared in constant time.
            return hmac.compare_digest(ha1(name, self.realm, password), stored or _DUMMY_HA1) and stored is not None
        found = self.accounts.by_name(name)
        hashed = found[1] if found else None
        return password_matches(hashed or _dummy_hash(), password) and hashed is not None

    def _account(self, name: str, password: str) -> Account | None:
        """The account whose password was right, unless it is disabled; a user's is made at its first sign-in."""
        if is_extension_name(name):
            account = self.accounts.user_of_extension(name)
        else:
            found = self.accounts.by_name(name)
            if found is None:
                return None
            account, hashed = found
            if hashed is not None and HASHER.check_needs_rehash(hashed):
                self.accounts.rehash(account.id, password)
        if account.disabled or (account.role is Role.USER) != is_extension_name(name):
            return None
        return account

    def _locked_for(self, name: str, source: str) -> int:
        """Seconds until sign-ins of this name and from this source are accepted again; 0 now."""
        keys = (_FAILURES_OF_NAME.format(name), _FAILURES_OF_SOURCE.format(source))
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
            pipe.ttl(key)
        count_name, ttl_name, count_source, ttl_source = pipe.execute()
        waits = [int(ttl) for count, ttl, limit in ((count_name, ttl_name, self.limits.account_failures),
                                                     (count_source, ttl_source, self.limits.source_failures))
                 if count is not None and int(count) >= limit]
        return max([max(wait, 1) for wait in waits], default=0)

    def _count_failure(self, name: str, source: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        for key in (_FAILURES_OF_NAME.format(name), _FAILURES_OF_SOURCE.format(source)):
            pipe.incr(key)
            pipe.expire(key, self.limits.window, nx=True)  # the window starts at the first failure
        of_name, _, of_source, _ = pipe.execute()
        # The name is not logged: people type passwords into name fields.
        if of_name == self.limits.account_failures:
            log.warning("sign-in: %d failures for one name (the last from %s): it is locked for up to %d s",
                        of_name, source, self.limits.window)
        if of_source == self.limits.source_failures:
            log.warning("sign-in: %d failures from %s: it is locked for up to %d s", of_source, source,
                        self.limits.window)

    # Sessions ------------------------------------------------------------------------------------

    def open_session(self, account: Account) -> tuple[str, str]:
        """A new session of the account: (its id, for the cookie; its CSRF token)."""
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        key, stamp = _session_key(session_id), self.accounts.credential_stamp(account.id)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(key, mapping={"account": account.id, "stamp": stamp, "csrf": csrf})
        pipe.expire(key, SESSION_SECONDS)
        pipe.execute()
        return session_id, csrf

    def session(self, session_id: str) -> SessionRecord | None:
        found = self.client.hgetall(_session_key(session_id))
        if not found:
            return None
        return SessionRecord(int(found["account"]), str(found["stamp"]), str(found["csrf"]))

    def close_session(self, session_id: str) -> None:
        self.client.delete(_session_key(session_id))


def _session_key(session_id: str) -> str:
    # Only a hash of the id is stored, so a copy of Redis's data holds no usable session.
    return _SESSION.format(hashlib.sha256(session_id.encode()).hexdigest())
