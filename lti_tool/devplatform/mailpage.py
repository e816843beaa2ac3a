"""The platform's "Mail" page: the e-mails the tool sent, as a local SMTP sink caught them.

`python -m lti_tool.devplatform --mail-port 1025` (what `make run` does) also runs an SMTP
server (aiosmtpd) on localhost that accepts every message and files it in a Maildir under
the platform's data folder; the Mail page reads that folder. Nothing is delivered anywhere:
a newcomer sees what learners and mentors would receive.
"""

from __future__ import annotations

import mailbox
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template

bp = Blueprint("devplatform_mail", __name__)


def maildir_path(data_dir: Path) -> Path:
    """Where the sink files messages and the Mail page reads them."""
    return Path(data_dir) / "mail"


def start_sink(data_dir: Path, host: str, port: int):
    """Start the SMTP sink in a background thread; returns its aiosmtpd Controller."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Mailbox

    controller = Controller(Mailbox(str(maildir_path(data_dir))), hostname=host, port=port)
    controller.start()
    return controller


def _maildir() -> mailbox.Maildir:
    platform = current_app.extensions["devplatform"]
    return mailbox.Maildir(str(maildir_path(platform.config.data_dir)), create=True)


def _parsed(raw: mailbox.MaildirMessage) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw.as_bytes())


def _part(message: EmailMessage, content_type: str) -> str | None:
    for part in message.walk():
        if part.get_content_type() == content_type and not part.is_attachment():
            return part.get_content()
    return None


@bp.get("/mail")
def mail_list():
    """Every message caught, newest first."""
    box = _maildir()
    rows = []
    for key, raw in box.items():
        message = _parsed(raw)
        rows.append({"key": key, "to": message["To"], "subject": message["Subject"],
                     "date": message["Date"], "time": raw.get_date()})
    rows.sort(key=lambda row: row["time"], reverse=True)
    return render_template("devplatform/mail.html", rows=rows,
                           folder=maildir_path(current_app.extensions["devplatform"]
                                               .config.data_dir))


@bp.get("/mail/<key>")
def mail_message(key: str):
    """One message: its headers, its plain text, its HTML and its attachments."""
    box = _maildir()
    try:
        raw = box[key]
    except KeyError:
        abort(404)
    message = _parsed(raw)
    attachments = [
        {"filename": part.get_filename(), "type": part.get_content_type(),
         "params": dict(part.get_params() or [])}
        for part in message.iter_attachments()
    ]
    headers = [(name, message[name]) for name in (
        "From", "To", "Subject", "Date", "Message-ID", "Content-Language", "List-Unsubscribe",
        "List-Unsubscribe-Post") if message[name]]
    return render_template("devplatform/mail_message.html", message=message, headers=headers,
                           text=_part(message, "text/plain"), html=_part(message, "text/html"),
                           attachments=attachments)
