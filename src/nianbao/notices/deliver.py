"""Send a rendered notice by e-mail.

The bucket (``outbox/…``) is the notice's record; e-mail is a courtesy copy to the address in the
agency registry. The Markdown is the body (it reads as plain text, so it goes as ``text/plain``)
and the JSON notice rides along as an attachment for agencies that process notices by machine.

Driver errors are translated at this boundary (style.md, habit 10): anything that may pass on a
retry (connection refused or reset, timeouts, SMTP 4xx) is :class:`TransientError`; what will not
(SMTP 5xx such as an unknown recipient or a failed login, a server without STARTTLS when it was
asked for) is :class:`TerminalError`. The caller decides whether to retry.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid

from nianbao.errors import TerminalError, TransientError
from nianbao.notices import RenderedNotice


def build_message(sender: str, to: str, rendered: RenderedNotice) -> EmailMessage:
    """The MIME message: UTF-8 subject and body, the JSON notice attached.

    ``EmailMessage`` with the SMTP policy encodes the Chinese subject as RFC 2047; ``cte_type``
    7bit makes it pick base64 or quoted-printable for the body, so the message is pure ASCII and
    any relay accepts it, 8BITMIME or not.
    """
    msg = EmailMessage(policy=SMTP_POLICY.clone(cte_type="7bit"))
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = rendered.subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg["X-Nianbao-Notice-Kind"] = rendered.kind
    msg.set_content(rendered.markdown, subtype="plain", charset="utf-8")
    msg.add_attachment(
        rendered.json.encode("utf-8"),
        maintype="application",
        subtype="json",
        filename=_attachment_name(rendered),
    )
    return msg


def send_email(
    host: str,
    port: int,
    sender: str,
    to: str,
    rendered: RenderedNotice,
    *,
    username: str | None = None,
    password: str | None = None,
    starttls: bool = False,
    timeout: float = 10,
) -> None:
    """Send one notice to one recipient; raises ``TransientError`` or ``TerminalError``."""
    msg = build_message(sender, to, rendered)
    where = f"SMTP {host}:{port}"
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            if starttls:
                smtp.starttls(context=ssl.create_default_context())
            if username is not None:
                smtp.login(username, password or "")
            smtp.send_message(msg, from_addr=sender, to_addrs=[to])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{rcpt}: {code} {_text(m)}" for rcpt, (code, m) in exc.recipients.items())
        if codes and all(400 <= c < 500 for c in codes):
            raise TransientError(f"{where} temporarily refused the recipient ({detail}); retry later") from exc
        raise TerminalError(
            f"{where} refused the recipient ({detail}); check the agency's e-mail address in the registry"
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise TerminalError(f"{where} does not support what was asked ({exc}); check the starttls setting") from exc
    except smtplib.SMTPResponseException as exc:  # sender refused, data refused, auth failed, HELO failed
        message = f"{where} answered {exc.smtp_code} {_text(exc.smtp_error)}"
        if 400 <= exc.smtp_code < 500:
            raise TransientError(f"{message}; retry later") from exc
        raise TerminalError(f"{message}; check the SMTP settings and the sender address") from exc
    except smtplib.SMTPServerDisconnected as exc:
        raise TransientError(f"{where} closed the connection ({exc}); retry later") from exc
    except TimeoutError as exc:
        raise TransientError(f"{where} did not answer within {timeout:g} s; retry later") from exc
    except ssl.SSLError as exc:
        raise TerminalError(f"{where}: TLS failed ({exc}); check the server certificate and starttls") from exc
    except OSError as exc:  # refused, reset, unreachable, DNS failure
        raise TransientError(f"cannot reach {where} ({exc}); is the mail server running?") from exc
    except smtplib.SMTPException as exc:
        raise TransientError(f"{where} failed ({exc}); retry later") from exc


def _attachment_name(rendered: RenderedNotice) -> str:
    """``notice-<submission_id>.json`` when the JSON carries the id, else ``notice.json``."""
    try:
        sid = json.loads(rendered.json).get("submission_id")
    except (ValueError, AttributeError):
        sid = None
    return f"notice-{sid}.json" if sid else "notice.json"


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
