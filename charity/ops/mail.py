"""Outgoing email. Development writes to the log and instance/mail/; production uses SMTP.

``queue_mail`` sends only after the unit of work's transaction commits
(charity.core.uow.after_commit), so a rolled-back change never sends an email.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import partial
from pathlib import Path

from flask import current_app

from charity.core.uow import after_commit

#: In tests (MAIL_BACKEND="memory") sent messages are collected here.
outbox: list[EmailMessage] = []
#: ``app.extensions`` key of an optional ``callable(Mail)`` that takes over sending queued
#: mail (charity.ops.jobs sets it to enqueue a job when a job queue is configured). Without it,
#: queued mail is sent inline after the commit.
MAIL_DISPATCH_KEY = "charity.mail_dispatch"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # (filename, mime type, content)
    #: Extra headers, e.g. RFC 8058's List-Unsubscribe and List-Unsubscribe-Post.
    headers: tuple[tuple[str, str], ...] = ()


def build_message(mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=_sender_domain())
    for name, value in mail.headers:
        message[name] = value
    message.set_content(mail.body)
    for filename, mime, content in mail.attachments:
        maintype, subtype = mime.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def _sender_domain() -> str:
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    return sender.rpartition("@")[2].strip("> ") or "charity.local"


def send_mail(mail: Mail) -> None:
    """Send now. Views should prefer charity.ops.mail.queue_mail (sent after commit)."""
    message = build_message(mail)
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "memory":
        outbox.append(message)
    elif backend == "smtp":
        _send_smtp(message)
    else:
        _write_console(message)


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        smtp.send_message(message)


def _write_console(message: EmailMessage) -> None:
    folder = Path(current_app.instance_path) / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}.eml"
    path.write_bytes(bytes(message))
    current_app.logger.info(
        "mail to %s: %s (saved to %s)\n%s",
        message["To"],
        message["Subject"],
        path,
        message.get_body(("plain",)).get_content() if message.get_body(("plain",)) else "",
    )


def queue_mail(mail: Mail) -> None:
    """Send once the current transaction commits; never if it rolls back."""
    after_commit(partial(deliver, mail))


def deliver(mail: Mail) -> None:
    """Send ``mail`` now, through the dispatch hook (a job) when one is configured."""
    dispatch = current_app.extensions.get(MAIL_DISPATCH_KEY, send_mail)
    try:
        dispatch(mail)
    except (OSError, smtplib.SMTPException):
        current_app.logger.exception("could not send mail to %s", mail.to)
