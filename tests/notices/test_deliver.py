"""E-mail delivery against a real SMTP server (aiosmtpd on 127.0.0.1), decoded as a client would."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from nianbao.errors import TerminalError, TransientError
from nianbao.notices import RenderedNotice
from nianbao.notices.deliver import send_email

NOTICE = RenderedNotice(
    kind="return",
    subject="【退回修改】苍台镇人民政府2023年政府信息公开工作年度报告有2处错误，请更正后重新上传（编号s-1）",
    json=json.dumps({"submission_id": "s-1", "kind": "return", "findings": [{"rule": "S3-BALANCE"}]},
                    ensure_ascii=False) + "\n",
    markdown="# 政府信息公开工作年度报告退回修改通知\n\n苍台镇人民政府：\n\n表三“法律服务机构”列不符合勾稽关系。\n",
)


class Collect:
    """An aiosmtpd handler that keeps every message and can refuse recipients with a given reply."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.rcpt_reply: str | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:  # noqa: N802
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"clerk", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Collect]]:
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(),
                            authenticator=_authenticator, auth_require_tls=False)
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_message_is_delivered_and_decodes(smtp: tuple[Controller, Collect]) -> None:
    controller, handler = smtp
    send_email(controller.hostname, controller.port, "nianbao@example.gov.cn", "clerk@cangtai.example.gov.cn", NOTICE)
    ((mail_from, rcpt, raw),) = handler.messages
    assert mail_from == "nianbao@example.gov.cn" and rcpt == ["clerk@cangtai.example.gov.cn"]
    assert raw.isascii(), "headers and body must be transfer-encoded for any server"
    msg = message_from_bytes(raw, policy=default_policy)
    assert isinstance(msg, EmailMessage)
    assert msg["Subject"] == NOTICE.subject
    assert msg["To"] == "clerk@cangtai.example.gov.cn"
    assert msg["X-Nianbao-Notice-Kind"] == "return"
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content_charset() == "utf-8"
    assert body.get_content().replace("\r\n", "\n") == NOTICE.markdown  # text/plain travels with CRLF
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename() == "notice-s-1.json"
    assert attachment.get_content_type() == "application/json"
    assert json.loads(attachment.get_payload(decode=True).decode("utf-8")) == json.loads(NOTICE.json)


def test_login(smtp: tuple[Controller, Collect]) -> None:
    controller, handler = smtp
    send_email(controller.hostname, controller.port, "nianbao@example.gov.cn", "a@example.gov.cn", NOTICE,
               username="clerk", password="s3cret")
    assert len(handler.messages) == 1
    with pytest.raises(TerminalError, match="535"):
        send_email(controller.hostname, controller.port, "nianbao@example.gov.cn", "a@example.gov.cn", NOTICE,
                   username="clerk", password="wrong")


def test_recipient_refused_permanently_is_terminal(smtp: tuple[Controller, Collect]) -> None:
    controller, handler = smtp
    handler.rcpt_reply = "550 5.1.1 No such user"
    with pytest.raises(TerminalError, match="550"):
        send_email(controller.hostname, controller.port, "n@example.gov.cn", "nobody@example.gov.cn", NOTICE)
    assert handler.messages == []


def test_recipient_refused_temporarily_is_transient(smtp: tuple[Controller, Collect]) -> None:
    controller, handler = smtp
    handler.rcpt_reply = "451 4.3.0 Try again later"
    with pytest.raises(TransientError, match="451"):
        send_email(controller.hostname, controller.port, "n@example.gov.cn", "x@example.gov.cn", NOTICE)


def test_refused_connection_is_transient() -> None:
    port = _free_port()  # nothing listens there any more
    with pytest.raises(TransientError, match=f"127.0.0.1:{port}"):
        send_email("127.0.0.1", port, "n@example.gov.cn", "x@example.gov.cn", NOTICE, timeout=2)


def test_silent_server_times_out_as_transient() -> None:
    with socket.socket() as listener:  # accepts the TCP connection but never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with pytest.raises(TransientError, match="did not answer|closed|reach"):
            send_email("127.0.0.1", port, "n@example.gov.cn", "x@example.gov.cn", NOTICE, timeout=0.5)


def test_starttls_not_offered_is_terminal(smtp: tuple[Controller, Collect]) -> None:
    controller, _ = smtp
    with pytest.raises(TerminalError, match="starttls"):
        send_email(controller.hostname, controller.port, "n@example.gov.cn", "x@example.gov.cn", NOTICE,
                   starttls=True)
