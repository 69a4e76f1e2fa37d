"""Paging through the CRM APIs: whole objects, changes since a date, and deletions.

Each pager yields ``Page``s: the records, the keys deleted (incremental pulls only), and
the cursor to resume from after this page (``None`` after the last). A cursor is plain
JSON, so a pull that fails on page 9,000 of 10,000 resumes where it stopped.

* HubSpot CRM v3: ``GET /crm/v3/objects/{object}`` following ``paging.next.after``; since a
  date, ``POST /crm/v3/objects/{object}/search`` on ``hs_lastmodifieddate`` (sorted
  ascending, restarting from the last date seen at the search API's 10,000-result cap),
  then the archived records (``archived=true``) for deletions.
* Salesforce REST: ``GET .../query?q=SOQL`` following ``nextRecordsUrl``; since a date,
  ``.../queryAll`` on ``SystemModstamp`` with ``IsDeleted``, which also returns deleted
  records.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from listbuilder.errors import ConfigError, DataError
from listbuilder.inputs.http import Client, bare
from listbuilder.inputs.sourcefiles import ApiSpec

Record = dict[str, str | list[str] | None]
Cursor = dict[str, Any]
SEARCH_CAP = 10_000  # HubSpot's search API returns at most this many results per query
SEARCH_PAGE = 100
MODIFIED = "hs_lastmodifieddate"


class PullError(DataError):
    """The CRM refused, failed or answered something unusable; nothing was replaced."""


@dataclass(frozen=True)
class Page:
    """One page: records to keep, keys deleted, and where to go on from (None: done)."""

    records: list[Record]
    deleted: list[str]
    cursor: Cursor | None


def pages(client: Client, api: ApiSpec, cursor: Cursor, since: str | None) -> Iterator[Page]:
    """The pager for ``api``'s kind, full or (with ``since``, an ISO time) incremental."""
    if api.kind == "hubspot":
        if since is None:
            return _hubspot_pages(client, api, cursor)
        return _hubspot_changes(client, api, cursor, since)
    return _salesforce_pages(client, api, cursor, since)


def get(client: Client, url: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    """The JSON object at ``url``."""
    body = client.send("GET", url, params=params, ok=(200,), want_json=True).body
    if not isinstance(body, dict):
        raise PullError(f"{client.redact(bare(url))} answered JSON that is not an object")
    return body


def check_properties(client: Client, api: ApiSpec, path: object) -> None:
    """Every property the source file names exists in HubSpot (a typo is an error now,
    not a column of nulls).

    Raises:
        ConfigError: A property is unknown; the message suggests the closest names.
    """
    body = get(client, f"{api.base_url}/crm/v3/properties/{api.object}")
    known = {str(p.get("name")) for p in body.get("results", []) if isinstance(p, dict)}
    unknown = [p for p in api.properties if p not in known and p != "id"]
    if not unknown:
        return
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, sorted(known), n=2)
        hints.append(f"`{name}`" + (f" (did you mean {' or '.join(close)}?)" if close else ""))
    raise ConfigError(
        f"HubSpot has no {api.object} propert{'y' if len(unknown) == 1 else 'ies'} "
        f"{', '.join(hints)}: fix api.properties in {path}"
    )


# --- HubSpot ------------------------------------------------------------------------------


def _hubspot_pages(client: Client, api: ApiSpec, cursor: Cursor) -> Iterator[Page]:
    url = f"{api.base_url}/crm/v3/objects/{api.object}"
    params = {"limit": str(api.page_size), "properties": ",".join(api.properties)}
    params["archived"] = "false"
    if api.associations:
        params["associations"] = ",".join(api.associations)
    # Cursors seen in this pull, to stop a server that loops; kept in memory only, so the
    # resume state stays one cursor, not a list that grows with every page.
    seen: set[str] = set()
    after: str | None = cursor.get("after")
    while True:
        body = get(client, url, {**params, "after": after} if after else params)
        results = body.get("results")
        if not isinstance(results, list):
            raise PullError(f"{bare(url)} answered a page without a results list")
        records = [_hubspot_record(r, api) for r in results]
        after = _new_after(body, url, seen)
        yield Page(records, [], None if after is None else {"after": after})
        if after is None:
            return


def _new_after(body: dict[str, Any], url: str, seen: set[str]) -> str | None:
    """The next page's cursor; a cursor this pull has already followed is an error, as
    following it again would loop for ever."""
    paging = body.get("paging") or {}
    after = ((paging.get("next") or {}) if isinstance(paging, dict) else {}).get("after")
    if not after:
        return None
    after = str(after)
    if after in seen:
        raise PullError(f"{bare(url)} returned the paging cursor {after!r} twice")
    seen.add(after)
    return after


def _hubspot_changes(client: Client, api: ApiSpec, cursor: Cursor, since: str) -> Iterator[Page]:
    """Records modified since ``since``, then the archived ones (deletions)."""
    if api.associations:
        raise ConfigError(
            "HubSpot's search API returns no associations, so an incremental pull cannot keep "
            f"api.associations ({', '.join(api.associations)}) up to date: pull in full"
        )
    phase = cursor.get("phase", "changed")
    if phase == "changed":
        yield from _hubspot_search(client, api, cursor, since)
        cursor = {"phase": "archived"}
    yield from _hubspot_archived(client, api, cursor)


def _hubspot_search(client: Client, api: ApiSpec, cursor: Cursor, since: str) -> Iterator[Page]:
    url = f"{api.base_url}/crm/v3/objects/{api.object}/search"
    gte = int(cursor.get("gte", _epoch_ms(since)))
    after: str | None = cursor.get("after")
    props = sorted({*api.properties, MODIFIED})
    seen: set[str] = set()  # cursors of the current search; a restart begins a new one
    while True:
        body_out: dict[str, Any] = {
            "filterGroups": [
                {"filters": [{"propertyName": MODIFIED, "operator": "GTE", "value": str(gte)}]}
            ],
            "sorts": [{"propertyName": MODIFIED, "direction": "ASCENDING"}],
            "properties": props,
            "limit": SEARCH_PAGE,
        }
        if after:
            body_out["after"] = after
        answer = client.send("POST", url, json_body=body_out, ok=(200,), want_json=True)
        body = answer.body if isinstance(answer.body, dict) else {}
        results = body.get("results")
        if not isinstance(results, list):
            raise PullError(f"{bare(url)} answered a page without a results list")
        records = [_hubspot_record(r, api) for r in results]
        after = _new_after(body, url, seen)
        if after is not None and int(after) >= SEARCH_CAP and results:
            # The search API stops at 10,000 results: start a new search from the last
            # modification time seen (records at that very time come again and are
            # de-duplicated by id).
            last = _epoch_ms(str((results[-1].get("properties") or {}).get(MODIFIED)))
            if last <= gte:
                raise PullError(
                    f"more than {SEARCH_CAP:,} HubSpot records share the modification time "
                    f"{gte}: pull in full"
                )
            gte, after, seen = last, None, set()
            yield Page(records, [], {"phase": "changed", "gte": gte})
            continue
        if after is None:
            yield Page(records, [], {"phase": "archived"})
            return
        yield Page(records, [], {"phase": "changed", "gte": gte, "after": after})


def _hubspot_archived(client: Client, api: ApiSpec, cursor: Cursor) -> Iterator[Page]:
    url = f"{api.base_url}/crm/v3/objects/{api.object}"
    params = {"limit": str(api.page_size), "archived": "true", "properties": MODIFIED}
    seen: set[str] = set()  # in memory only, as for the records' pager
    after: str | None = cursor.get("after")
    while True:
        body = get(client, url, {**params, "after": after} if after else params)
        results = body.get("results")
        if not isinstance(results, list):
            raise PullError(f"{bare(url)} answered a page without a results list")
        deleted = [str(r["id"]) for r in results if isinstance(r, dict) and "id" in r]
        after = _new_after(body, url, seen)
        yield Page([], deleted, None if after is None else {"phase": "archived", "after": after})
        if after is None:
            return


def _hubspot_record(result: Any, api: ApiSpec) -> Record:
    if not isinstance(result, dict) or "id" not in result:
        raise PullError(f"HubSpot returned a {api.object} record without an id")
    props = result.get("properties") or {}
    record: Record = {"id": str(result["id"])}
    for name in api.properties:
        record[name] = text(props.get(name))
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


def _epoch_ms(value: str) -> int:
    """An ISO time (or epoch milliseconds) as epoch milliseconds, HubSpot's filter form."""
    if value.isdigit():
        return int(value)
    when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


# --- Salesforce ---------------------------------------------------------------------------


def soql(api: ApiSpec, since: str | None = None) -> str:
    """The query for a full pull, or (``since``) for changes and deletions since then."""
    fields = list(api.fields)
    if since is not None:
        fields += [f for f in ("IsDeleted",) if f.lower() not in {x.lower() for x in fields}]
    query = f"SELECT {', '.join(fields)} FROM {api.object}"
    where = [api.where] if api.where else []
    if since is not None:
        where = [f"({w})" for w in where]
        stamp = since.replace("+00:00", "Z")
        where.append(f"SystemModstamp > {stamp}")
    return f"{query} WHERE {' AND '.join(where)}" if where else query


def _salesforce_pages(
    client: Client, api: ApiSpec, cursor: Cursor, since: str | None
) -> Iterator[Page]:
    resource = "query" if since is None else "queryAll"
    url = cursor.get("next") or f"{api.base_url}/services/data/{api.api_version}/{resource}"
    params: dict[str, str] | None = None if cursor.get("next") else {"q": soql(api, since)}
    seen: set[str] = set()  # in memory only, as for HubSpot
    expected: int | None = cursor.get("expected")
    received = int(cursor.get("received", 0))
    while True:
        body = get(client, url, params)
        records = body.get("records")
        if not isinstance(records, list):
            raise PullError(f"{bare(url)} answered a page without a records list")
        if expected is None and isinstance(body.get("totalSize"), int):
            expected = body["totalSize"]
        received += len(records)
        kept, deleted = _split_deleted([_salesforce_record(r, api) for r in records], api, since)
        if body.get("done", True) is True:
            if expected is not None and received != expected:
                raise PullError(
                    f"Salesforce reported {expected} {api.object} records but sent {received}: "
                    "the snapshot would be incomplete"
                )
            yield Page(kept, deleted, None)
            return
        next_url = body.get("nextRecordsUrl")
        if not isinstance(next_url, str) or not next_url:
            raise PullError(f"{bare(url)} said done = false without a nextRecordsUrl")
        if next_url in seen:
            raise PullError(f"{bare(url)} returned the nextRecordsUrl {next_url} twice")
        seen.add(next_url)
        url, params = urljoin(f"{api.base_url}/", next_url), None
        state = {"next": url, "expected": expected, "received": received}
        yield Page(kept, deleted, state)


def _split_deleted(
    records: list[Record], api: ApiSpec, since: str | None
) -> tuple[list[Record], list[str]]:
    if since is None:
        return records, []
    key = key_column(api)
    kept = [r for r in records if r.get("IsDeleted") != "true"]
    deleted = [str(r[key]) for r in records if r.get("IsDeleted") == "true"]
    return kept, deleted


def _salesforce_record(record: Any, api: ApiSpec) -> Record:
    if not isinstance(record, dict):
        raise PullError(f"Salesforce returned a {api.object} record that is not an object")
    out: Record = {}
    for name in (*api.fields, "IsDeleted"):
        value: Any = record
        for part in name.split("."):
            # Field names are case-insensitive in SOQL; the JSON uses the API casing.
            if not isinstance(value, dict):
                value = None
                break
            lowered = {k.lower(): v for k, v in value.items()}
            value = lowered.get(part.lower())
        out[name] = text(value)
    return out


def key_column(api: ApiSpec) -> str:
    """The record key: HubSpot's ``id``, Salesforce's ``Id`` as the file spells it."""
    if api.kind == "hubspot":
        return "id"
    return next(f for f in api.fields if f.lower() == "id")


def text(value: Any) -> str | None:
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
