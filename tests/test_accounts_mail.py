"""Outgoing mail: queued during a request, sent only after the commit, three backends."""

from __future__ import annotations

import email
import socket
import socketserver
import threading
from email import policy

import pytest

from charity.core.uow import commit
from charity.ops import mail
from charity.ops.mail import Mail, queue_mail
from tests.support.factories import UserFactory

MESSAGE = Mail(to="donor@example.org", subject="测试 subject", body="你好, body line\n")


def test_queued_mail_goes_out_after_the_commit(app, db_session, mail_outbox):
    with app.app_context(), app.test_request_context("/"):
        queue_mail(MESSAGE)
        assert mail_outbox == []
        commit()
    [message] = mail_outbox
    assert message["To"] == "donor@example.org"
    assert message["Subject"] == "测试 subject"
    assert message["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert message["Date"] and message["Message-ID"].endswith("@charity.local>")
    assert message.get_body(("plain",)).get_content() == "你好, body line\n"


def test_mail_of_a_request_that_never_commits_is_never_sent(app, db_session, mail_outbox):
    with app.app_context(), app.test_request_context("/"):
        queue_mail(MESSAGE)
        db_session.rollback()
    with app.app_context(), app.test_request_context("/"):
        commit()  # a later request's commit does not send the earlier request's mail
    assert mail_outbox == []


def test_console_backend_writes_an_eml_file_and_logs(
    app, db_session, monkeypatch, tmp_path, caplog
):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "console")
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    with app.app_context(), app.test_request_context("/"), caplog.at_level("INFO"):
        queue_mail(MESSAGE)
        commit()
    [path] = (tmp_path / "mail").glob("*.eml")
    parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["To"] == "donor@example.org"
    assert parsed.get_body(("plain",)).get_content() == "你好, body line\n"
    assert "donor@example.org" in caplog.text and "你好, body line" in caplog.text


def test_console_backend_in_the_reset_flow(client, app, db_session, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "console")
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    user = UserFactory()
    assert client.post("/account/reset", data={"email": user.email}).status_code == 200
    [path] = (tmp_path / "mail").glob("*.eml")
    assert "/account/reset/" in path.read_text()


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: greeting, EHLO, MAIL, RCPT, DATA, QUIT."""

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._reply("220 test ESMTP")
        while line := self.rfile.readline():
            verb = line.decode("ascii", "replace").strip().split(" ")[0].upper()
            if verb == "DATA":
                self._reply("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.server.received.append(data)  # type: ignore[attr-defined]
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("250 ok")


@pytest.fixture
def smtp_server():  # type: ignore[no-untyped-def]
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_smtp_backend_sends(app, db_session, monkeypatch, smtp_server):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_server.server_address[1])
    monkeypatch.setitem(app.config, "SMTP_STARTTLS", False)
    with app.app_context(), app.test_request_context("/"):
        queue_mail(MESSAGE)
        commit()
    [data] = smtp_server.received
    parsed = email.message_from_bytes(data, policy=policy.default)
    assert parsed["To"] == "donor@example.org"
    assert parsed["Subject"] == "测试 subject"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_smtp_server_is_logged_not_a_500(
    client, app, db_session, monkeypatch, caplog
):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", _closed_port())
    user = UserFactory()
    response = client.post("/account/reset", data={"email": user.email})
    assert response.status_code == 200
    assert "could not send mail" in caplog.text
    assert mail.outbox == []
