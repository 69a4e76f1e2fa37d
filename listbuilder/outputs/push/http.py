"""HTTP for pushes: the same retry, backoff, timeout and token rules as ``pull``.

Connection errors, timeouts, a body cut short, 429 and 5xx are retried with exponential
backoff and full jitter, waiting at least what ``Retry-After`` asks; Salesforce's
``REQUEST_LIMIT_EXCEEDED`` (a 403) is an API-limit answer, retried the same way rather
than reported as a bad token. The token goes only to the destination's host, only in the
``Authorization`` header, and is blanked from every message.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from listbuilder.errors import DataError
from listbuilder.inputs.crm_api import MAX_RETRY_AFTER, RETRY_STATUSES, _bare, _retry_after

log = logging.getLogger(__name__)
BASE_DELAY = 1.0
MAX_DELAY = 60.0


class PushError(DataError):
    """The destination refused or kept failing; what it accepted so far is in the state."""


@dataclass
class Answer:
    """A response the caller decides about: status, parsed JSON (or None) and text."""

    status: int
    body: Any
    text: str
    headers: Mapping[str, str]


class Client:
    """Sends requests to one host with a bearer token, retrying what is worth retrying."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        max_attempts: int = 6,
        timeout: tuple[float, float] = (10.0, 60.0),
        per_minute: int | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        token_env: str = "",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.host = urlsplit(base_url).netloc
        self.token = token
        # Everything secret this client has seen, blanked from every message it writes.
        self.secrets: set[str] = {token} if token else set()
        self.token_env = token_env
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.session = session or requests.Session()
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self.requests = 0
        self.retries = 0
        self._last: float | None = None

    def redact(self, text: str) -> str:
        """``text`` with the token blanked, should any server or library echo it."""
        for secret in self.secrets:
            text = text.replace(secret, "[token]")
        return text

    def send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 204, 207),
        authorise: bool = True,
    ) -> Answer:
        """Send one request, retrying transient failures; any other status raises.

        A status in ``ok`` is returned for the caller to read (per-record errors live
        inside 200 and 207 bodies).
        """
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        if urlsplit(url).netloc != self.host:
            raise PushError(
                f"refusing to send the token to another host: {self.redact(_bare(url))}"
            )
        where = f"{method} {self.redact(_bare(url))}"
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            self._pace()
            self.requests += 1
            wait_at_least = 0.0
            try:
                response = self.session.request(
                    method,
                    url,
                    json=json_body,
                    data=data,
                    headers={
                        **({"Authorization": f"Bearer {self.token}"} if authorise else {}),
                        "Accept": "application/json",
                        **(headers or {}),
                    },
                    timeout=self.timeout,
                )
                text = response.text
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                last = type(exc).__name__
            else:
                status = response.status_code
                body = _json(text)
                if status in ok:
                    return Answer(status, body, text, response.headers)
                if status == 403 and "REQUEST_LIMIT_EXCEEDED" in text:
                    last = "HTTP 403 REQUEST_LIMIT_EXCEEDED (the org's API request limit)"
                    wait_at_least = max(_retry_after(response.headers.get("Retry-After")), 30.0)
                elif status in (401, 403):
                    raise PushError(
                        f"the destination refused the token (HTTP {status}) at {where}: check "
                        f"that {self.token_env or 'the token variable'} holds a valid token "
                        f"with write access ({self.redact(text)[:200]})"
                    )
                elif status in RETRY_STATUSES:
                    last = f"HTTP {status}"
                    wait_at_least = _retry_after(response.headers.get("Retry-After"))
                    if wait_at_least > MAX_RETRY_AFTER:
                        raise PushError(
                            f"{where} asked to wait {wait_at_least:.0f} s (HTTP {status}); "
                            "push again later: what was accepted is kept"
                        )
                else:
                    raise PushError(f"HTTP {status} from {where}: {self.redact(text)[:300]}")
            if attempt == self.max_attempts:
                break
            delay = max(
                wait_at_least, self.rng.uniform(0, min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1)))
            )
            self.retries += 1
            log.info("%s from %s; retry %d in %.1f s", last, where, attempt, delay)
            self.sleep(delay)
        raise PushError(
            f"giving up on {where} after {self.max_attempts} attempts; last error: {last}"
        )

    def _pace(self) -> None:
        """Keep to the destination's per-minute request limit."""
        if not self.interval:
            return
        now = self.clock()
        if self._last is not None and now - self._last < self.interval:
            self.sleep(self.interval - (now - self._last))
            now = self.clock()
        self._last = now


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None
