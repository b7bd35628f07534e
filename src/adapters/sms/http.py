"""A generic HTTP SMS gateway (`CRM_SMS_BACKEND=http:URL`, key in `CRM_SMS_API_KEY`).

The provider contract, which most gateways offer or a small relay can provide:

- request: `POST URL` with `Content-Type: application/json`, the header `X-API-Key: <key>` and the body
  `{"to": "+919876543210", "text": "..."}` (`to` in E.164 form, `text` plain UTF-8);
- any 2xx: the gateway took the message (the body is not read);
- 400, 409, 410, 413, 415, 422 (any 4xx other than the ones below): the gateway refuses this message for good
  (a bad or barred number, a text it will not carry): `RecipientRejected`, not retried;
- 401, 403, 404, 408, 429 and 5xx, a timeout or a connection error: `UpstreamUnavailable`, so the caller retries
  later (a wrong key or URL is a configuration fault that must not drop messages silently: they retry until
  the outbox gives them up as dead letters, which shows in `crm outbox status` and the metrics).

Neither the number in full, the text (it may hold a sign-in code) nor the key is logged or put in an error.
"""

from __future__ import annotations

import logging
from typing import Final

import httpx

from crm_domain.errors import RecipientRejected, UpstreamUnavailable

log = logging.getLogger("crm.sms")

#: 4xx answers that mean "not now" or "not configured right", not "never this message".
RETRIED_4XX: Final = frozenset({401, 403, 404, 408, 429})


def masked(number: str) -> str:
    return number[:-4] + "****" if len(number) > 4 else "****"


class HttpSmsSender:
    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("the SMS gateway URL must start with http:// or https://")
        if not api_key:
            raise ValueError("the SMS gateway needs an API key")
        self._url = url
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"X-API-Key": api_key, "Accept": "application/json"},
            follow_redirects=False,
        )

    def send(self, to: str, text: str) -> None:
        try:
            response = self._client.post(self._url, json={"to": to, "text": text})
        except httpx.TimeoutException as exc:
            raise UpstreamUnavailable("the SMS gateway did not answer in time") from exc
        except httpx.HTTPError as exc:  # connection refused, reset, DNS, TLS, protocol errors
            raise UpstreamUnavailable(f"the SMS gateway cannot be reached ({type(exc).__name__})") from exc
        status = response.status_code
        if 200 <= status < 300:
            log.info("sms to %s accepted by the gateway", masked(to))
            return
        if 400 <= status < 500 and status not in RETRIED_4XX:
            log.warning("sms to %s refused by the gateway (%s)", masked(to), status)
            raise RecipientRejected("sms", masked(to), status)
        log.warning("sms to %s not taken by the gateway (%s); to be retried", masked(to), status)
        raise UpstreamUnavailable(f"the SMS gateway answered {status}")

    def close(self) -> None:
        self._client.close()
