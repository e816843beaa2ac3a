"""The mail worker's job: send due messages from the outbox through SMTP, each at most once.

Claiming: a worker takes one due pending message with `SELECT ... FOR UPDATE SKIP LOCKED`,
so on PostgreSQL any number of workers share the outbox and never take the same message
(SQLite has no row locks: run one worker there).

Retrying: the mail server not answering, a timeout, a refused login or any 4xx answer leave
the message pending, to be tried again after 60 s · 2^(n−1) (at most 1 h, half of it
random) until MAIL_RETRY_HOURS have passed since it was enqueued; then it is marked failed.
A 5xx answer (no such mailbox, say) fails it at once. The outbox loses nothing while the
mail server is down.

Never twice. SMTP has no way to ask "did you get message X?", so exactly once cannot be had
when a worker dies at the wrong moment; the tool chooses at most once, and makes the moment
as short as SMTP allows:

1. Connecting, logging in, MAIL FROM and RCPT TO happen while the message is still pending
   and nothing is committed. A crash here leaves it pending: it is sent later (once).
2. Just before DATA, the message is marked `sending` (with `sending_dt`) and committed.
3. After the server's 250 to the data, it is marked `sent` and committed.

A worker that dies between 2 and 3, while the server is receiving the data, leaves the
message `sending`; no worker claims a `sending` message, and after MAIL_SENDING_LEASE_MINUTES
it is marked `uncertain` for an operator (`flask notifications status` lists them). It may
or may not have arrived; it is never sent a second time. The Message-ID is fixed when the
message is enqueued, so even an operator's manual resend is recognisable as the same message.
"""

from __future__ import annotations

import logging
import random
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy

from flask import current_app
from sqlalchemy import select, update

from lti_tool.extensions import db
from lti_tool.identity.models import utcnow
from lti_tool.notifications.compose import build_message
from lti_tool.notifications.kinds import Kind
from lti_tool.notifications.models import MailStatus, Notification
from lti_tool.notifications.outbox import can_email, wants

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 3600
#: A message left `sending` longer than this was being sent by a worker that died.
SENDING_LEASE = timedelta(minutes=15)


class Retry(Exception):
    """The message was not handed over; try again later."""


class Refused(Exception):
    """The mail server refused the message for good (5xx)."""


class Uncertain(Exception):
    """The connection broke while the server was receiving the message."""


def backoff(attempts: int) -> timedelta:
    """The wait before try `attempts + 1`: 60 s · 2^(n−1), at most 1 h, with jitter."""
    ceiling = min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))


class Mailer:
    """One SMTP connection for a pass, opened when first needed (MAIL_* settings)."""

    def __init__(self) -> None:
        self.config = current_app.config
        self.smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        config = self.config
        host, port = config["MAIL_HOST"], config["MAIL_PORT"]
        timeout = config["MAIL_TIMEOUT_SECONDS"]
        security = config["MAIL_SECURITY"]
        if security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USER"]:
            smtp.login(config["MAIL_USER"], config["MAIL_PASSWORD"])
        return smtp

    def prepare(self, sender: str, recipient: str) -> smtplib.SMTP:
        """Connect if needed, then MAIL FROM and RCPT TO; Retry or Refused on a refusal."""
        try:
            if self.smtp is None:
                self.smtp = self._open()
            smtp = self.smtp
            smtp.ehlo_or_helo_if_needed()
            code, answer = smtp.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, answer, sender)
            code, answer = smtp.rcpt(recipient)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({recipient: (code, answer)})
            return smtp
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            code, answer = next(iter(exc.recipients.values()))
            raise _classified(code, answer) from exc
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise _classified(exc.smtp_code, exc.smtp_error) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise Retry(f"The mail server could not be reached: {exc}") from exc

    def data(self, smtp: smtplib.SMTP, payload: bytes) -> None:
        """Send the message's data; Uncertain when the connection breaks meanwhile."""
        try:
            code, answer = smtp.data(payload)
        except smtplib.SMTPDataError as exc:
            # The server answered no: the message was not accepted.
            self._reset()
            raise _classified(exc.smtp_code, exc.smtp_error) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise Uncertain(f"The connection broke while the mail server received the "
                            f"message: {exc}") from exc
        if code != 250:
            self._reset()
            raise _classified(code, answer)

    def _reset(self) -> None:
        try:
            if self.smtp is not None:
                self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        """Say QUIT (or just drop the connection)."""
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()
        self.smtp = None


def _classified(code: int, answer: bytes | str) -> Exception:
    text = answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
    reason = f"The mail server answered {code} {text}".strip()
    return Refused(reason) if 500 <= code < 600 else Retry(reason)


@dataclass
class PassReport:
    """What one sending pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    uncertain: int = 0
    ids: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        """Messages looked at."""
        return len(self.ids)


def _claim(now: datetime, skip: set[int]) -> Notification | None:
    query = (
        select(Notification)
        .where(Notification.status == MailStatus.PENDING, Notification.next_try_dt <= now)
        .order_by(Notification.next_try_dt, Notification.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if skip:
        query = query.where(Notification.id.not_in(skip))
    return db.session.scalar(query)


def expire_sending(now: datetime) -> int:
    """Mark messages left `sending` past the lease as uncertain (their worker died)."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.status == MailStatus.SENDING,
               Notification.sending_dt < now - SENDING_LEASE)
        .values(status=MailStatus.UNCERTAIN,
                last_error="The worker stopped while the mail server was receiving this "
                           "message; it may have arrived, so it is not sent again.")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0


def send_next(mailer: Mailer, now: datetime | None = None, *,
              skip: set[int] | None = None) -> tuple[int, MailStatus] | None:
    """Claim one due message and send it (committing its new state); None when none is due."""
    moment = now or utcnow()
    skip = set() if skip is None else skip
    notification = _claim(moment, skip)
    if notification is None:
        db.session.rollback()
        return None
    skip.add(notification.id)
    person = notification.recipient
    kind = Kind(notification.kind)
    if not can_email(person) or not wants(person.id, kind):
        # The address went away, or the person turned this kind off after it was queued.
        notification.status = MailStatus.SKIPPED
        notification.last_error = ("No e-mail address." if not can_email(person)
                                   else "Turned off by the person.")
        db.session.commit()
        return notification.id, MailStatus.SKIPPED
    address = person.email.strip()
    try:
        # CRLF line ends, as SMTP wants them (smtplib sends bytes as given).
        payload = build_message(notification, address).as_bytes(policy=policy.SMTP)
        smtp = mailer.prepare(current_app.config["MAIL_FROM"], address)
    except Retry as exc:
        return notification.id, _retry(notification, str(exc), moment)
    except Refused as exc:
        return notification.id, _finish(notification, MailStatus.FAILED, str(exc))
    except Exception as exc:
        log.exception("composing e-mail %s failed inside the tool", notification.id)
        return notification.id, _retry(notification, f"The tool failed: {exc}", moment)
    # From here on the message may reach the recipient: commit `sending` first (see above).
    notification.status = MailStatus.SENDING
    notification.sending_dt = moment
    notification.attempts += 1
    db.session.commit()
    try:
        mailer.data(smtp, payload)
    except Retry as exc:
        notification.status = MailStatus.PENDING
        return notification.id, _retry(notification, str(exc), moment, counted=True)
    except Refused as exc:
        return notification.id, _finish(notification, MailStatus.FAILED, str(exc))
    except Uncertain as exc:
        return notification.id, _finish(notification, MailStatus.UNCERTAIN, str(exc))
    notification.sent_dt = utcnow()
    log.info("e-mail %s (%s) sent to person %s", notification.id, kind.value, person.id)
    return notification.id, _finish(notification, MailStatus.SENT, None)


def _finish(notification: Notification, status: MailStatus, reason: str | None) -> MailStatus:
    notification.status = status
    notification.last_error = reason
    if status is not MailStatus.SENT:
        log.warning("e-mail %s %s: %s", notification.id, status.value, reason)
    db.session.commit()
    return status


def _retry(notification: Notification, reason: str, now: datetime, *,
           counted: bool = False) -> MailStatus:
    if not counted:
        notification.attempts += 1
    limit = timedelta(hours=current_app.config["MAIL_RETRY_HOURS"])
    if now - notification.created_dt >= limit:
        return _finish(notification, MailStatus.FAILED,
                       f"{reason} (gave up after {current_app.config['MAIL_RETRY_HOURS']} h)")
    notification.next_try_dt = now + backoff(notification.attempts)
    notification.last_error = reason
    log.info("e-mail %s: try %s failed (%s); next at %s", notification.id,
             notification.attempts, reason, notification.next_try_dt)
    db.session.commit()
    return MailStatus.PENDING


def send_due(now: datetime | None = None, *, limit: int | None = None,
             stop: threading.Event | None = None) -> PassReport:
    """One pass: send every message due now (at most `limit`), over one SMTP connection."""
    report = PassReport()
    moment = now or utcnow()
    report.uncertain += expire_sending(moment)
    mailer = Mailer()
    skip: set[int] = set()
    try:
        while (limit is None or report.handled < limit) and not (stop and stop.is_set()):
            outcome = send_next(mailer, now, skip=skip)
            if outcome is None:
                break
            notification_id, status = outcome
            report.ids.append(notification_id)
            if status is MailStatus.PENDING:
                report.retrying += 1
                if mailer.smtp is None:
                    # The server is down: the other messages would only wait for it too.
                    break
            else:
                setattr(report, status.value, getattr(report, status.value) + 1)
    finally:
        mailer.close()
    return report
