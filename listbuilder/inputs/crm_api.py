"""Pull CRM records over HTTP into a parquet snapshot a build can read from files.

``pull(source_path, out_path)`` reads every record of the object an API source file names
(``[api]`` in ``sources/hubspot_api.toml`` or ``sources/salesforce_api.toml``):

* HubSpot CRM v3 objects, ``GET /crm/v3/objects/{object}?limit=..&properties=..``,
  following the ``paging.next.after`` cursor until there is none;
* Salesforce REST query, ``GET /services/data/vXX.X/query?q=SELECT ..``, following
  ``nextRecordsUrl`` until ``done`` is true.

Every value is stored as text (lists of ids for HubSpot associations), so a page where a
number arrives as a float and the next where it arrives as an int make one stable schema;
the source file's mapping parses the types when the snapshot is read. The snapshot is
written beside its target and moved into place only when every page has arrived, with a
small ``<name>.pull.json`` saying when and from where: a failed pull never replaces a good
snapshot, and a month's build can be re-run from files alone.

The token comes from the environment variable the source file names and is sent only in
the ``Authorization`` header, only to the source file's host. It is never logged and never
put in an exception, the snapshot or the metadata.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
import requests

from listbuilder.errors import ConfigError, DataError
from listbuilder.files import atomic_file, check_snapshot_target, sha256_of
from listbuilder.inputs.sourcefiles import ApiSpec, SourceDef, load_source_def

log = logging.getLogger(__name__)

BASE_DELAY = 1.0
MAX_DELAY = 60.0
# A server asking for a longer wait than this is down for maintenance, not busy:
# better to say so than to sit silent for an hour.
MAX_RETRY_AFTER = 300.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class PullError(DataError):
    """The CRM refused, failed or answered something unusable; nothing was replaced."""


@dataclass(frozen=True)
class PullResult:
    """What a pull wrote, and how it went."""

    source: Path
    out: Path
    metadata: Path
    records: int
    pages: int
    requests: int
    retries: int
    duplicates_skipped: int
    started_at: str
    finished_at: str


def pull(
    source_path: str | Path,
    out_path: str | Path | None = None,
    *,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> PullResult:
    """Read every record the source file's ``[api]`` names into a parquet snapshot.

    Args:
        source_path: A source file with an ``[api]`` table.
        out_path: The snapshot to write; default the file's ``[input] path``. The
            metadata goes beside it as ``<stem>.pull.json``.
        session: The HTTP session to use (default: a new one, closed at the end).
        sleep: Called with each backoff delay in seconds (tests pass a recorder).
        rng: Source of the backoff jitter (tests pass a seeded one).

    Raises:
        ConfigError: The file has no ``[api]``, no output path, or the token variable is
            unset.
        PullError: Authentication failed, a request kept failing after the retries, or
            the API answered something that is not a page of records.
    """
    defn = load_source_def(source_path)
    api = defn.api
    if api is None:
        raise ConfigError(f"source file {defn.path} has no [api] table: there is nothing to pull")
    token = os.environ.get(api.token_env, "").strip()
    if not token:
        raise ConfigError(
            f"environment variable {api.token_env} is not set (api.token_env in "
            f"{defn.path}): export the CRM access token there"
        )
    out = _out_path(defn, out_path)
    meta_path = out.with_name(f"{out.stem}.pull.json")
    check_snapshot_target(out, meta_path)
    http = _Http(session or requests.Session(), api, token, sleep, rng or random.Random())
    try:
        meta = _pull_into(defn, api, http, out, meta_path)
    finally:
        if session is None:
            http.session.close()
    log.info(
        "pulled %d %s records in %d pages to %s", meta["records"], api.object, meta["pages"], out
    )
    return PullResult(
        source=defn.path,
        out=out,
        metadata=meta_path,
        records=meta["records"],
        pages=meta["pages"],
        requests=meta["requests"],
        retries=meta["retries"],
        duplicates_skipped=meta["duplicates_skipped"],
        started_at=meta["started_at"],
        finished_at=meta["finished_at"],
    )


def _pull_into(
    defn: SourceDef, api: ApiSpec, http: _Http, out: Path, meta_path: Path
) -> dict[str, Any]:
    """Page through the API into temporary files, then move both into place.

    The snapshot and its metadata are written beside their targets and renamed only when
    the last page has arrived (the snapshot first, then the metadata describing it); any
    failure before that removes the temporary files and leaves the previous pull intact.
    """
    started = _now()
    pages = _hubspot_pages(http, api) if api.kind == "hubspot" else _salesforce_pages(http, api)
    with atomic_file(meta_path) as meta_tmp, atomic_file(out) as parquet_tmp:
        counts = _write_snapshot(pages, _columns(api), _key_column(api), parquet_tmp)
        meta = {
            "format": "listbuilder-pull/1",
            "source": str(defn.path),
            "kind": api.kind,
            "base_url": api.base_url,
            "object": api.object,
            "request": _describe_request(api),
            "started_at": started,
            "finished_at": _now(),
            "records": counts["records"],
            "pages": counts["pages"],
            "requests": http.requests,
            "retries": http.retries,
            "duplicates_skipped": counts["duplicates"],
            "snapshot": out.name,
            "snapshot_sha256": sha256_of([parquet_tmp]),
        }
        meta_tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def _out_path(defn: SourceDef, out_path: str | Path | None) -> Path:
    if out_path is not None:
        out = Path(out_path)
    elif defn.input is not None:
        out = Path(os.path.normpath(defn.path.parent / defn.input.path))
    else:
        raise ConfigError(
            f"no snapshot path: give --out, or set [input] path in {defn.path} to a .parquet file"
        )
    if out.suffix.lower() != ".parquet":
        raise ConfigError(f"the snapshot is written as parquet: {out} should end in .parquet")
    return out


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- HTTP with retries --------------------------------------------------------------------


class _Http:
    """GETs JSON with timeouts, and retries what is worth retrying.

    The retry loop is written here rather than delegated to urllib3's ``Retry``: a
    connection dropped while the body is being read (``ChunkedEncodingError``) happens
    after urllib3 has handed the response over, so ``Retry`` never sees it; ``Retry`` also
    sleeps with ``time.sleep`` and the global ``random``, which tests cannot replace.
    """

    def __init__(
        self,
        session: requests.Session,
        api: ApiSpec,
        token: str,
        sleep: Callable[[float], None],
        rng: random.Random,
    ) -> None:
        self.session = session
        self.api = api
        self.token = token
        self.sleep = sleep
        self.rng = rng
        self.requests = 0
        self.retries = 0
        self.host = urlsplit(api.base_url).netloc

    def redact(self, text: str) -> str:
        """``text`` with the token blanked, should any server or library echo it."""
        return text.replace(self.token, "[token]") if self.token else text

    def get(self, url: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The JSON object at ``url``; retries connection errors, timeouts, 429 and 5xx."""
        if urlsplit(url).netloc != self.host:
            # The token goes only to the host the source file names.
            raise PullError(f"refusing to follow a link to another host: {self.redact(_bare(url))}")
        where = self.redact(_bare(url))
        last = ""
        for attempt in range(1, self.api.max_attempts + 1):
            self.requests += 1
            wait_at_least = 0.0
            try:
                response = self.session.get(
                    url,
                    params=params,
                    headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
                    timeout=(self.api.connect_timeout, self.api.read_timeout),
                )
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                last = type(exc).__name__
            else:
                status = response.status_code
                if status == 200:
                    try:
                        body = response.json()
                    except ValueError:
                        last = "a response that is not JSON"
                    else:
                        if isinstance(body, dict):
                            return body
                        raise PullError(f"{where} answered JSON that is not an object")
                elif status in (401, 403):
                    raise PullError(
                        f"{self.api.kind} refused the token (HTTP {status}) at {where}: check "
                        f"that {self.api.token_env} holds a valid, unexpired token with read "
                        f"access to {self.api.object} ({_message(response, self.redact)})"
                    )
                elif status in RETRY_STATUSES:
                    last = f"HTTP {status}"
                    wait_at_least = _retry_after(response.headers.get("Retry-After"))
                    if wait_at_least > MAX_RETRY_AFTER:
                        raise PullError(
                            f"{where} asked to wait {wait_at_least:.0f} s before retrying "
                            f"(HTTP {status}, Retry-After); try the pull again later"
                        )
                else:
                    raise PullError(
                        f"HTTP {status} from {where}: {_message(response, self.redact)}"
                    )
            if attempt == self.api.max_attempts:
                break
            delay = max(wait_at_least, self._backoff(attempt))
            self.retries += 1
            log.info("%s from %s; retry %d in %.1f s", last, where, attempt, delay)
            self.sleep(delay)
        raise PullError(
            f"giving up on {where} after {self.api.max_attempts} attempts; last error: {last}"
        )

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^n)].

        Jitter spreads the retries of many clients hit by the same outage.
        """
        return self.rng.uniform(0, min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1)))


def _retry_after(value: str | None) -> float:
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


def _bare(url: str) -> str:
    """A URL without its query string, for messages (cursors and SOQL are noise there)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _message(response: requests.Response, redact: Callable[[str], str]) -> str:
    """The API's own error message, short: HubSpot's ``message``, Salesforce's list of
    ``{message, errorCode}``."""
    try:
        body = response.json()
    except ValueError:
        return "no details"
    items = body if isinstance(body, list) else [body]
    texts = [
        " ".join(str(i.get(k)) for k in ("errorCode", "message") if i.get(k))
        for i in items
        if isinstance(i, dict)
    ]
    text = "; ".join(t for t in texts if t) or "no details"
    return redact(text)[:300]


# --- paging -------------------------------------------------------------------------------

Record = dict[str, str | list[str] | None]


def _hubspot_pages(http: _Http, api: ApiSpec) -> Iterator[list[Record]]:
    url = f"{api.base_url}/crm/v3/objects/{api.object}"
    params = {
        "limit": str(api.page_size),
        "properties": ",".join(api.properties),
        "archived": "false",
    }
    if api.associations:
        params["associations"] = ",".join(api.associations)
    seen: set[str] = set()
    after: str | None = None
    while True:
        body = http.get(url, {**params, "after": after} if after else params)
        results = body.get("results")
        if not isinstance(results, list):
            raise PullError(f"{_bare(url)} answered a page without a results list")
        yield [_hubspot_record(r, api) for r in results]
        paging = body.get("paging") or {}
        after = ((paging.get("next") or {}) if isinstance(paging, dict) else {}).get("after")
        if not after:
            return
        after = str(after)
        if after in seen:
            raise PullError(f"{_bare(url)} returned the paging cursor {after!r} twice")
        seen.add(after)


def _hubspot_record(result: Any, api: ApiSpec) -> Record:
    if not isinstance(result, dict) or "id" not in result:
        raise PullError(f"HubSpot returned a {api.object} record without an id")
    props = result.get("properties") or {}
    record: Record = {"id": str(result["id"])}
    for name in api.properties:
        record[name] = _text(props.get(name))
    assoc = result.get("associations") or {}
    for kind in api.associations:
        found = ((assoc.get(kind) or {}).get("results") or []) if isinstance(assoc, dict) else []
        # A record is listed once per association label: labelled types first (such as
        # deal_to_company, the primary), then *_unlabeled, so the first id is the primary.
        ordered = sorted(
            (a for a in found if isinstance(a, dict) and "id" in a),
            key=lambda a: "unlabeled" in str(a.get("type", "")),
        )
        record[f"associations.{kind}"] = list(dict.fromkeys(str(a["id"]) for a in ordered))
    return record


def _soql(api: ApiSpec) -> str:
    query = f"SELECT {', '.join(api.fields)} FROM {api.object}"
    return f"{query} WHERE {api.where}" if api.where else query


def _salesforce_pages(http: _Http, api: ApiSpec) -> Iterator[list[Record]]:
    url = f"{api.base_url}/services/data/{api.api_version}/query"
    params: dict[str, str] | None = {"q": _soql(api)}
    seen: set[str] = set()
    expected: int | None = None
    received = 0
    while True:
        body = http.get(url, params)
        records = body.get("records")
        if not isinstance(records, list):
            raise PullError(f"{_bare(url)} answered a page without a records list")
        if expected is None and isinstance(body.get("totalSize"), int):
            expected = body["totalSize"]
        received += len(records)
        yield [_salesforce_record(r, api) for r in records]
        if body.get("done", True) is True:
            break
        next_url = body.get("nextRecordsUrl")
        if not isinstance(next_url, str) or not next_url:
            raise PullError(f"{_bare(url)} said done = false without a nextRecordsUrl")
        if next_url in seen:
            raise PullError(f"{_bare(url)} returned the nextRecordsUrl {next_url} twice")
        seen.add(next_url)
        url, params = urljoin(f"{api.base_url}/", next_url), None
    if expected is not None and received != expected:
        raise PullError(
            f"Salesforce reported {expected} {api.object} records but sent {received}: "
            "the snapshot would be incomplete"
        )


def _salesforce_record(record: Any, api: ApiSpec) -> Record:
    if not isinstance(record, dict):
        raise PullError(f"Salesforce returned a {api.object} record that is not an object")
    out: Record = {}
    for name in api.fields:
        value: Any = record
        for part in name.split("."):
            # Field names are case-insensitive in SOQL; the JSON uses the API casing.
            if not isinstance(value, dict):
                value = None
                break
            lowered = {k.lower(): v for k, v in value.items()}
            value = lowered.get(part.lower())
        out[name] = _text(value)
    return out


def _text(value: Any) -> str | None:
    """A JSON value as text: one type per column whatever the API sends page to page."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


# --- writing ------------------------------------------------------------------------------


def _columns(api: ApiSpec) -> dict[str, pa.DataType]:
    if api.kind == "hubspot":
        cols: dict[str, pa.DataType] = {"id": pa.string()}
        cols.update({p: pa.string() for p in api.properties if p != "id"})
        cols.update({f"associations.{a}": pa.list_(pa.string()) for a in api.associations})
        return cols
    return {f: pa.string() for f in api.fields}


def _key_column(api: ApiSpec) -> str:
    if api.kind == "hubspot":
        return "id"
    return next(f for f in api.fields if f.lower() == "id")


def _write_snapshot(
    pages: Iterator[list[Record]], columns: dict[str, pa.DataType], key: str, path: Path
) -> dict[str, int]:
    """Write pages as they arrive (memory stays one page); skip repeated keys."""
    schema = pa.schema(list(columns.items()))
    seen: set[str] = set()
    counts = {"records": 0, "pages": 0, "duplicates": 0}
    with pq.ParquetWriter(path, schema) as writer:
        for page in pages:
            counts["pages"] += 1
            fresh = []
            for record in page:
                ident = record.get(key)
                if isinstance(ident, str):
                    if ident in seen:
                        counts["duplicates"] += 1
                        continue
                    seen.add(ident)
                fresh.append(record)
            if fresh:
                table = pa.Table.from_pydict(
                    {c: [r.get(c) for r in fresh] for c in columns}, schema=schema
                )
                writer.write_table(table)
            counts["records"] += len(fresh)
            log.info("page %d: %d records", counts["pages"], len(fresh))
    return counts


def _describe_request(api: ApiSpec) -> dict[str, Any]:
    if api.kind == "hubspot":
        return {
            "path": f"/crm/v3/objects/{api.object}",
            "properties": list(api.properties),
            "associations": list(api.associations),
            "page_size": api.page_size,
        }
    return {"path": f"/services/data/{api.api_version}/query", "soql": _soql(api)}
