"""HTTP for the CRM and ad APIs: retries, backoff, pacing and a token that never leaks.

One client serves ``pull`` and ``push``. Connection errors, timeouts, a body cut short, a
200 that is not JSON, 429 and 5xx are retried with exponential backoff and full jitter,
waiting at least what ``Retry-After`` asks. Salesforce's API-limit answer (a 403 with
``REQUEST_LIMIT_EXCEEDED``) is retried the same way after a longer wait, never reported as
a bad token. HubSpot's rate-limit headers pace the next request. The token goes only to
the configured host, only in the ``Authorization`` header, and every secret the client
has seen is blanked from every message.

The retry loop is written here rather than delegated to urllib3's ``Retry``: a connection
dropped while the body is being read (``ChunkedEncodingError``) happens after urllib3 has
handed the response over, so ``Retry`` never sees it; ``Retry`` also sleeps with
``time.sleep`` and the global ``random``, which tests cannot replace.
"""

from __future__ import annotations

import datetime as dt
import email.utils
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

log = logging.getLogger(__name__)

BASE_DELAY = 1.0
MAX_DELAY = 60.0
# A server asking for a longer wait than this is down for maintenance, not busy:
# better to say so than to sit silent for an hour.
MAX_RETRY_AFTER = 300.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Salesforce counts API requests per rolling 24 hours; a short back-off rarely clears it,
# but a scheduled run that waits a little and tries again often finishes.
API_LIMIT_WAIT = 30.0


class Refused(DataError):
    """The server refused the credentials (401, or a 403 that is not an API limit)."""

    def __init__(self, status: int, where: str, detail: str) -> None:
        self.status, self.where, self.detail = status, where, detail
        super().__init__(f"HTTP {status} at {where}: {detail}")


@dataclass
class Answer:
    """A response the caller decides about: status, parsed JSON (or None), text, headers."""

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
        error: type[DataError] = DataError,
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
        self.error = error
        self.requests = 0
        self.retries = 0
        self._last: float | None = None
        self._pause = 0.0

    def redact(self, text: str) -> str:
        """``text`` with every secret blanked, should any server or library echo one."""
        for secret in self.secrets:
            text = text.replace(secret, "[token]")
        return text

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 204, 207),
        want_json: bool = False,
        authorise: bool = True,
    ) -> Answer:
        """Send one request, retrying transient failures; any other status raises.

        A status in ``ok`` is returned for the caller to read (per-record errors live
        inside 200 and 207 bodies). With ``want_json``, a 200 whose body is not JSON is
        retried like a dropped connection.

        Raises:
            Refused: 401, or a 403 that is not an API limit.
            DataError (``error``): any other failure, or retries exhausted.
        """
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        where = f"{method} {self.redact(bare(url))}" if method != "GET" else self.redact(bare(url))
        if urlsplit(url).netloc != self.host:
            raise self.error(f"refusing to follow a link to another host: {where}")
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            self._pace()
            self.requests += 1
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
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
                last, wait_at_least = type(exc).__name__, 0.0
            else:
                self._note_rate_limit(response.headers)
                answer = Answer(response.status_code, _json(text), text, response.headers)
                if answer.status in ok and (answer.body is not None or not want_json):
                    return answer
                last, wait_at_least = self._judge(answer, where, ok)
            if attempt == self.max_attempts:
                break
            delay = max(wait_at_least, self._backoff(attempt))
            self.retries += 1
            log.info("%s from %s; retry %d in %.1f s", last, where, attempt, delay)
            self.sleep(delay)
        raise self.error(
            f"giving up on {where} after {self.max_attempts} attempts; last error: {last}"
        )

    def _judge(self, answer: Answer, where: str, ok: tuple[int, ...]) -> tuple[str, float]:
        """Why an answer is worth retrying and the least wait; raise when it is not."""
        status, text = answer.status, answer.text
        if status in ok:
            return "a response that is not JSON", 0.0
        if status == 403 and "REQUEST_LIMIT_EXCEEDED" in text:
            wait = max(retry_after(answer.headers.get("Retry-After")), API_LIMIT_WAIT)
            return "HTTP 403 REQUEST_LIMIT_EXCEEDED (the org's API request limit)", wait
        if status in (401, 403):
            raise Refused(status, where, message(text, self.redact))
        if status not in RETRY_STATUSES:
            raise self.error(f"HTTP {status} from {where}: {message(text, self.redact)}")
        wait = retry_after(answer.headers.get("Retry-After"))
        if wait > MAX_RETRY_AFTER:
            raise self.error(
                f"{where} asked to wait {wait:.0f} s before retrying "
                f"(HTTP {status}, Retry-After); try again later"
            )
        return f"HTTP {status}", wait

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^n)].

        Jitter spreads the retries of many clients hit by the same outage.
        """
        return self.rng.uniform(0, min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1)))

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        """HubSpot's documented headers: when a window's budget is spent, wait it out."""
        remaining = headers.get("X-HubSpot-RateLimit-Remaining")
        interval = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
        secondly = headers.get("X-HubSpot-RateLimit-Secondly-Remaining")
        pause = 0.0
        if remaining is not None and interval is not None and _int(remaining) == 0:
            pause = max(pause, (_int(interval) or 0) / 1000)
        if secondly is not None and _int(secondly) == 0:
            pause = max(pause, 1.0)
        self._pause = pause

    def _pace(self) -> None:
        """Keep to a per-minute limit, and to what the last answer's headers asked."""
        if self._pause:
            self.sleep(self._pause)
            self._pause = 0.0
        if not self.interval:
            return
        now = self.clock()
        if self._last is not None and now - self._last < self.interval:
            self.sleep(self.interval - (now - self._last))
            now = self.clock()
        self._last = now


def retry_after(value: str | None) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return 0.0
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def bare(url: str) -> str:
    """A URL without its query string, for messages (cursors and SOQL are noise there)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def message(text: str, redact: Callable[[str], str]) -> str:
    """The API's own error message, short: HubSpot's ``message``, Salesforce's list of
    ``{message, errorCode}``."""
    body = _json(text)
    if body is None:
        return "no details"
    items = body if isinstance(body, list) else [body]
    texts = [
        " ".join(
            str(i.get(k))
            for k in ("errorCode", "message", "error", "error_description")
            if i.get(k)
        )
        for i in items
        if isinstance(i, dict)
    ]
    joined = "; ".join(t for t in texts if t) or "no details"
    return redact(joined)[:300]


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None
