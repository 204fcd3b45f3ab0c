"""The worker's side of scheduled conferences: a round every few seconds (and one at each start
time) that projects them into Redis, hands a due one to the bridge node it is placed on
(conference.placement, as a room), applies the end rules, queues reminders and mails what the outbox holds. A round
is idempotent; the API asks for one after every change, and the periodic chain catches
anything missed (a Redis outage, a worker restart)."""

from __future__ import annotations

import logging
import smtplib
import time
from datetime import UTC, datetime, timedelta

import redis

import settings
from conference.invitations import message, recipients
from conference.placement import gone, run_state, settled
from conference.schedule import End, Extend, Meeting, State, at_end, ended, extended
from store import live
from store.conferences import MeetingRepository
from store.queue import ROUND, enqueue_tick, queue
from workers import jobs, metrics

log = logging.getLogger("kamconf.worker")

CHAIN = "kamconf:meetings:chain"  # present while the periodic rounds run (refreshed by each)
# A conference is handed to its node this long before its start and the node calls everyone at the
# start itself: RQ's scheduler looks for due jobs only once a second, the node's loop every few ms.
LEAD = timedelta(seconds=2)
SMTP_TIMEOUT = 10


def keep_rounds_going(client: redis.Redis) -> None:
    """Start the periodic rounds unless they run (a worker start, or a chain lost with Redis)."""
    if client.set(CHAIN, "1", nx=True, ex=int(ROUND.total_seconds()) * 6):
        enqueue_tick(client, periodic=True)


def tick(periodic: bool = False) -> None:
    config = jobs.config()
    repository = MeetingRepository(jobs.sessions())
    client = live.connect(config.redis_url, timeout=2.0)
    queue_client = live.queue_connection(config.redis_url)
    now = datetime.now(UTC)
    try:
        alive = project(repository, client, now)
        start_and_end(repository, client, alive, now)
        next_start(queue_client, alive, now)
        queue_reminders(repository, now)
        deliver(repository, config, now)
    finally:
        if periodic:
            queue_client.set(CHAIN, "1", ex=int(ROUND.total_seconds()) * 6)
            enqueue_tick(queue_client, periodic=True)
        else:
            keep_rounds_going(queue_client)


def queue_reminders(repository: MeetingRepository, now: datetime) -> None:
    """A reminder, once per revision, for scheduled meetings whose reminder time has come."""
    soon = now + timedelta(days=8)  # longer than the longest reminder interval
    for meeting in repository.between(now, soon):
        due = meeting.start - timedelta(minutes=meeting.reminder_minutes)
        if meeting.reminder_minutes and meeting.state(now) == State.SCHEDULED and due <= now:
            repository.remind_once(meeting)


def deliver(repository: MeetingRepository, config: settings.Config, now: datetime) -> None:
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


def send(server: settings.MailConfig, mail: object) -> None:
    with smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT) as smtp:
        if server.username:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
            smtp.login(server.username, server.password)
        smtp.send_message(mail)  # type: ignore[arg-type]


# Starting and ending ---------------------------------------------------------------------

def project(repository: MeetingRepository, client: redis.Redis, now: datetime) -> list[Meeting]:
    """Scheduled and current conferences into Redis for the bridge (dial-in, start); returns them."""
    # A current one may have started long ago if people stayed on; a week back is plenty.
    alive = [m for m in repository.between(now - timedelta(days=7), now + timedelta(days=400))
             if m.state(now) in (State.SCHEDULED, State.CURRENT)]
    live.replace_meetings(client, [m.projected() for m in alive])
    return alive


def start_and_end(repository: MeetingRepository, client: redis.Redis, alive: list[Meeting], now: datetime) -> None:
    for meeting in alive:
        state = meeting.state(now)
        if state == State.SCHEDULED and meeting.start - now <= LEAD:
            launch(client, meeting)  # the node starts it at its start time
        elif state != State.CURRENT:
            continue
        elif now >= meeting.end:
            end_time(repository, client, meeting, now)
        else:
            launch(client, meeting)


def launch(client: redis.Redis, meeting: Meeting) -> None:
    """Start a current conference on a bridge node, or again on a live one when the run it was
    started on is gone (the node died or restarted: its participants are called again)."""
    nodes, registered = live.node_registry(client)
    before = live.launched(client, meeting.code, meeting.revision)
    if before is not None and not gone(run_state(before, nodes, registered)):
        return
    # Each conference is placed as a room is (least loaded, then affinity); dial-in callers on another
    # node are carried to it by a relay leg (bridge.meetings.Meetings.transfer).
    node_id = live.home_node(client, str(meeting.address))
    node = next((n for n in nodes if n.id == node_id), None)
    if node is not None and before is not None and not settled(node, time.time()):
        return  # the next round: Kamailio is still ending the calls of the run that is gone
    if node is None:
        metrics.count_start(client, metrics.NO_NODE)
        log.error("conference %s: no live bridge node to start it on; trying again next round", meeting.code)
    elif live.launch(client, meeting.code, meeting.revision, node.run, gone=before):
        live.command(client, node.id, op="start", code=meeting.code, at=f"{meeting.start.timestamp():.3f}")
        metrics.count_start(client, metrics.STARTED)
        if before is None:
            live.room_event(client, "conference_started", str(meeting.address), code=meeting.code, node=node.id)
            log.info("conference %s handed to %s for its start", meeting.code, node.run)
        else:
            log.warning("conference %s resumed on %s: %s, where it ran, is gone", meeting.code, node.run, before)


def end_time(repository: MeetingRepository, client: redis.Redis, meeting: Meeting, now: datetime) -> None:
    present = live.present(client, str(meeting.address))  # not those it still calls
    outcome = at_end(meeting, present)
    node = live.affinity(client, str(meeting.address))  # where it runs; none: nobody is in it
    if isinstance(outcome, End):
        repository.update(meeting.code, lambda m: ended(m, now))
        live.delete_entry(client, live.MEETINGS, meeting.code)
        if node:
            live.command(client, node, op="end", code=meeting.code)
        live.room_event(client, "conference_ended", str(meeting.address), code=meeting.code, reason="end time")
        log.info("conference %s ended at its end time", meeting.code)
    elif isinstance(outcome, Extend):
        repository.update(meeting.code, lambda m: extended(m, outcome.minutes))
        metrics.count_extension(client)
        if node:
            live.command(client, node, op="extended", code=meeting.code, minutes=str(outcome.minutes))
        log.info("conference %s extended by %d minutes", meeting.code, outcome.minutes)
    # RunOn: it ends when the last one leaves (meeting_emptied).


def meeting_emptied(code: str) -> None:
    """The bridge's room of a current conference emptied: the last one hung up, so it is over."""
    config = jobs.config()
    repository = MeetingRepository(jobs.sessions())
    now = datetime.now(UTC)
    meeting = repository.get(code)
    if meeting.state(now) == State.CURRENT:
        repository.update(code, lambda m: ended(m, now))
        client = live.connect(config.redis_url)
        live.delete_entry(client, live.MEETINGS, code)  # dial-in: no longer exists
        live.room_event(client, "conference_ended", str(meeting.address), code=code, reason="emptied")
        log.info("conference %s ended: the last participant left", code)


def extend_meeting(code: str, minutes: int) -> None:
    """A moderator's *98 moved a current conference's end on (its room announced it already)."""
    config = jobs.config()
    repository = MeetingRepository(jobs.sessions())
    if repository.get(code).state(datetime.now(UTC)) != State.CURRENT:
        log.warning("conference %s: a moderator's extension came after its end; not filed", code)
        return
    repository.update(code, lambda m: extended(m, minutes))
    project(repository, live.connect(config.redis_url), datetime.now(UTC))
    log.info("conference %s extended by %d minutes by a moderator", code, minutes)


def next_start(client: redis.Redis, alive: list[Meeting], now: datetime) -> None:
    """A round LEAD before the start time of the next conference, not up to a round later."""
    upcoming = [m for m in alive if m.state(now) == State.SCHEDULED and m.start - now > LEAD]
    if upcoming:
        soonest = min(upcoming, key=lambda m: m.start)
        queue(client).enqueue_at(soonest.start - LEAD, tick, False,
                                 job_id=f"meetings-start-{soonest.code}-{soonest.revision}", result_ttl=0)


def record_attendance(participant: str, code: str, caller: str, role: str, how: str, when: float,
                      joined: bool) -> None:
    repository = MeetingRepository(jobs.sessions())
    if joined:
        repository.attended(participant, code, caller, role, how, when)
    else:
        repository.left(participant, when)
