"""The worker's side of scheduled conferences: a round every few seconds that mails what the
outbox holds and queues reminders. A round is idempotent; the API asks for one after
every change so mail goes at once, and the periodic chain catches anything missed."""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, datetime, timedelta

import redis
from rq import Queue

from conference.invitations import message, recipients
from conference.schedule import State
from stack import config as stack_config
from store.conferences import MeetingRepository
from store.migrations import migrated_engine
from store.sql import make_sessions
from workers.jobs import QUEUE

log = logging.getLogger("kamconf.worker")

ROUND = timedelta(seconds=5)
CHAIN = "meetings-round"  # the one periodic job; re-enqueued under this id, so never two chains
SMTP_TIMEOUT = 10


def enqueue_tick(client: redis.Redis, periodic: bool = False) -> None:
    queue = Queue(QUEUE, connection=client)
    if periodic:
        queue.enqueue_in(ROUND, tick, True, job_id=CHAIN, result_ttl=0)
    else:
        queue.enqueue(tick, False, result_ttl=0)


def tick(periodic: bool = False) -> None:
    config = stack_config.load()
    repository = MeetingRepository(make_sessions(migrated_engine(config)))
    now = datetime.now(UTC)
    try:
        queue_reminders(repository, now)
        deliver(repository, config, now)
    finally:
        if periodic:
            enqueue_tick(redis.Redis.from_url(config.redis_url), periodic=True)


def queue_reminders(repository: MeetingRepository, now: datetime) -> None:
    """A reminder, once per revision, for scheduled meetings whose reminder time has come."""
    soon = now + timedelta(days=8)  # longer than the longest reminder interval
    for meeting in repository.between(now, soon):
        due = meeting.start - timedelta(minutes=meeting.reminder_minutes)
        if meeting.reminder_minutes and meeting.state(now) == State.SCHEDULED and due <= now:
            repository.remind_once(meeting)


def deliver(repository: MeetingRepository, config: stack_config.Config, now: datetime) -> None:
    for mail_id, code, kind, recipient in repository.mail_due(now):
        meeting = repository.get(code)
        person = next((p for p in recipients(meeting) if p.email == recipient), None)
        if person is None:
            repository.mail_sent(mail_id, now)  # the address left the meeting since: nothing to say
            continue
        mail = message(kind, meeting, person, config.mail.sender, config.conferences.dial_in, now, config.mail.domain)
        try:
            send(config.mail, mail)
        except (smtplib.SMTPException, OSError) as exc:
            again = repository.mail_failed(mail_id, now, f"{type(exc).__name__}: {exc}")
            log.error("conference %s: %s to %s failed (%s); %s", code, kind, recipient, exc,
                      f"trying again at {again:%H:%M:%S}" if again else "given up")
            continue
        repository.mail_sent(mail_id, now)
        log.info("conference %s: %s sent to %s", code, kind, recipient)


def send(settings: stack_config.MailConfig, mail: object) -> None:
    with smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT) as smtp:
        if settings.username:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
            smtp.login(settings.username, settings.password)
        smtp.send_message(mail)  # type: ignore[arg-type]
