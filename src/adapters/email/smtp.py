"""E-mail over SMTP (`CRM_SMTP_URL`), with smtplib.

URL forms: `smtp://[user:password@]host[:port]` (plain, port 25), `smtp://…?starttls=true` (STARTTLS, port
587 by default) and `smtps://…` (implicit TLS, port 465 by default). User and password are percent-decoded.
One connection a message, with a timeout on connecting and on every reply. Failures raise
`UpstreamUnavailable` (the outbox retries the message), except a recipient the server refuses for good (a 5xx
answer to RCPT), which raises `RecipientRejected`. The password never appears in a log or an error.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

import attrs

from adapters.email.log import masked_address
from crm_domain.errors import RecipientRejected, UpstreamUnavailable

log = logging.getLogger("crm.email")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@attrs.frozen(kw_only=True)
class SmtpEndpoint:
    host: str
    port: int
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    implicit_tls: bool = False
    starttls: bool = False

    @classmethod
    def parse(cls, url: str) -> SmtpEndpoint:
        """`ValueError` (without the password in it) when the URL is not one of the forms above."""
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"}:
            raise ValueError("CRM_SMTP_URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("CRM_SMTP_URL names no host")
        query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"starttls"}
        if unknown:
            raise ValueError(f"CRM_SMTP_URL has unknown options: {', '.join(sorted(unknown))}")
        flag = query.get("starttls", "false")
        if flag not in _TRUE | _FALSE:
            raise ValueError("CRM_SMTP_URL starttls must be true or false")
        implicit_tls = parts.scheme == "smtps"
        starttls = flag in _TRUE
        if implicit_tls and starttls:
            raise ValueError("CRM_SMTP_URL: smtps:// is TLS already; starttls=true is for smtp://")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError("CRM_SMTP_URL has an invalid port") from exc
        default_port = 465 if implicit_tls else 587 if starttls else 25
        return cls(
            host=parts.hostname,
            port=port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit_tls,
            starttls=starttls,
        )


class SmtpEmailSender:
    def __init__(
        self,
        endpoint: SmtpEndpoint,
        mail_from: str,
        *,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if "@" not in parseaddr(mail_from)[1]:
            raise ValueError(f"the From address {mail_from!r} has no e-mail address")
        self._endpoint = endpoint
        self._from = mail_from
        self._timeout = timeout
        self._ssl = ssl_context
        self._where = f"{endpoint.host}:{endpoint.port}"

    @classmethod
    def from_url(
        cls, url: str, mail_from: str, *, timeout: float = 10.0, ssl_context: ssl.SSLContext | None = None
    ) -> SmtpEmailSender:
        return cls(SmtpEndpoint.parse(url), mail_from, timeout=timeout, ssl_context=ssl_context)

    def _message(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._from
        message["To"] = to
        message["Subject"] = " ".join(subject.split())  # no line breaks in a header
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=parseaddr(self._from)[1].partition("@")[2] or None)
        message.set_content(body)
        return message

    def _connect(self) -> smtplib.SMTP:
        e = self._endpoint
        context = self._ssl or ssl.create_default_context()
        if e.implicit_tls:
            return smtplib.SMTP_SSL(e.host, e.port, timeout=self._timeout, context=context)
        smtp = smtplib.SMTP(e.host, e.port, timeout=self._timeout)
        if e.starttls:
            try:
                smtp.starttls(context=context)
            except BaseException:
                smtp.close()
                raise
        return smtp

    def send(self, to: str, subject: str, body: str, html: str | None = None) -> None:
        message = self._message(to, subject, body)
        if html is not None:
            message.add_alternative(html, subtype="html")
        e = self._endpoint
        try:
            with self._connect() as smtp:
                if e.username:
                    smtp.login(e.username, e.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                log.warning("email to %s refused by %s (%s)", masked_address(to), self._where, codes[0])
                raise RecipientRejected("email", masked_address(to), codes[0]) from exc
            raise UpstreamUnavailable(f"the mail server {self._where} deferred the recipient ({codes})") from exc
        except smtplib.SMTPResponseException as exc:
            log.warning("email to %s not taken by %s (%s)", masked_address(to), self._where, exc.smtp_code)
            raise UpstreamUnavailable(
                f"the mail server {self._where} answered {exc.smtp_code} ({type(exc).__name__})"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, TLS failure, connection dropped
            log.warning("email to %s: %s unreachable (%s)", masked_address(to), self._where, type(exc).__name__)
            reason = type(exc).__name__
            raise UpstreamUnavailable(f"the mail server {self._where} cannot be reached ({reason})") from exc
        log.info("email to %s accepted by %s", masked_address(to), self._where)
