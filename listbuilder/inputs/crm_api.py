"""Pull CRM records over HTTP into a parquet snapshot a build can read from files.

``pull(source_path, out_path)`` reads every record of the object an API source file names
(``[api]`` in ``sources/hubspot_api.toml`` or ``sources/salesforce_api.toml``; paging in
``crm_pages``). Every value is stored as text (lists of ids for HubSpot associations), so a
page where a number arrives as a float and the next where it arrives as an int make one
stable schema; the source file's mapping parses the types when the snapshot is read.

Fit for a schedule:

* **Resume.** Each page is written to ``.<snapshot>.partial/`` with the cursor to go on
  from; a pull that fails on page 9,000 of 10,000 resumes from its last cursor when re-run
  with the same source file. The snapshot is assembled only when the last page is in.
* **Incremental.** ``since_last=True`` reads only the records modified since the previous
  pull started (HubSpot search on ``hs_lastmodifieddate``, Salesforce ``queryAll`` on
  ``SystemModstamp``), merges them into the snapshot by key, and takes deleted records
  (HubSpot archived, Salesforce ``IsDeleted``) out of it, listing them in
  ``<stem>.deleted.parquet`` so a deletion stays visible.

The snapshot and its ``<stem>.pull.json`` are replaced only when every page has arrived: a
failed pull never replaces a good snapshot. The token (or the Salesforce refresh-token
flow, ``inputs.oauth``) is sent only to the source file's host and never written anywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import random
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import requests

from listbuilder.errors import ConfigError
from listbuilder.files import atomic_file, check_snapshot_target, sha256_of
from listbuilder.inputs.crm_pages import (
    Page,
    PullError,
    check_properties,
    key_column,
    pages,
    soql,
)
from listbuilder.inputs.http import Client, Refused
from listbuilder.inputs.oauth import access_token
from listbuilder.inputs.sourcefiles import ApiSpec, SourceDef, load_source_def

log = logging.getLogger(__name__)
PARTIAL_FORMAT = "listbuilder-partial-pull/1"

__all__ = ["PullError", "PullResult", "pull"]


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
    mode: str = "full"
    changed: int = 0
    deleted: int = 0
    resumed_pages: int = 0


def pull(
    source_path: str | Path,
    out_path: str | Path | None = None,
    *,
    since_last: bool = False,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    env: Mapping[str, str] | None = None,
) -> PullResult:
    """Read the records the source file's ``[api]`` names into a parquet snapshot.

    Args:
        source_path: A source file with an ``[api]`` table.
        out_path: The snapshot to write; default the file's ``[input] path``. The
            metadata goes beside it as ``<stem>.pull.json``.
        since_last: Read only what changed since the previous pull and merge it in.
        session: The HTTP session to use (default: a new one, closed at the end).
        sleep: Called with each backoff delay in seconds (tests pass a recorder).
        rng: Source of the backoff jitter (tests pass a seeded one).
        env: The environment to read tokens from (default ``os.environ``).

    Raises:
        ConfigError: No ``[api]``, no output path, an unset token variable, an unknown
            HubSpot property, or ``since_last`` without a previous snapshot.
        PullError: Authentication failed, a request kept failing after the retries, or
            the API answered something that is not a page of records.
    """
    defn = load_source_def(source_path)
    api = defn.api
    if api is None:
        raise ConfigError(f"source file {defn.path} has no [api] table: there is nothing to pull")
    out = _out_path(defn, out_path)
    meta_path = out.with_name(f"{out.stem}.pull.json")
    check_snapshot_target(out, meta_path)
    since = _watermark(out, meta_path) if since_last else None
    client = Client(
        api.base_url,
        "",
        max_attempts=api.max_attempts,
        timeout=(api.connect_timeout, api.read_timeout),
        session=session,
        sleep=sleep,
        rng=rng or random.Random(),
        token_env=api.token_env,
        error=PullError,
    )
    try:
        client.token = access_token(
            client,
            defn.path,
            api.token_env,
            (api.client_id_env, api.client_secret_env, api.refresh_token_env),
            os.environ if env is None else env,
        )
        result = _pull_into(defn, api, client, out, meta_path, since)
    except Refused as exc:
        raise PullError(
            f"{api.kind} refused the token (HTTP {exc.status}) at {exc.where}: check that "
            f"{api.token_env} holds a valid, unexpired token with read access to "
            f"{api.object} ({exc.detail})"
        ) from None
    finally:
        if session is None:
            client.session.close()
    log.info("pulled %d %s records to %s", result.records, api.object, out)
    return result


def _watermark(out: Path, meta_path: Path) -> str:
    """When the previous pull started: changes since then are what an incremental reads."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        started = str(meta["started_at"])
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(
            f"--since-last needs a previous pull: {meta_path} is missing or unreadable; "
            "run a full pull first"
        ) from None
    if not out.exists():
        raise ConfigError(f"--since-last needs the previous snapshot {out}; run a full pull first")
    return started


def _pull_into(
    defn: SourceDef, api: ApiSpec, client: Client, out: Path, meta_path: Path, since: str | None
) -> PullResult:
    """Page through the API into ``.partial/``, then assemble and move into place."""
    if api.kind == "hubspot":
        check_properties(client, api, defn.path)
    request = _describe_request(api, since)
    partial = _Partial(out.with_name(f".{out.name}.partial"), request)
    resumed = partial.pages
    if not partial.complete:
        for page in pages(client, api, partial.cursor or {}, since):
            partial.add(page, api)
    columns = _columns(api)
    key = key_column(api)
    with atomic_file(meta_path) as meta_tmp, atomic_file(out) as parquet_tmp:
        if since is None:
            counts = _write_full(partial, columns, key, parquet_tmp)
        else:
            counts = _merge(partial, columns, key, parquet_tmp, out)
        if since is not None:
            _record_deleted(out, counts["deleted_keys"], partial.started_at)
        meta = {
            "format": "listbuilder-pull/1",
            "source": str(defn.path),
            "kind": api.kind,
            "base_url": api.base_url,
            "object": api.object,
            "request": request,
            "mode": "incremental" if since else "full",
            "started_at": partial.started_at,
            "finished_at": _now(),
            "records": counts["records"],
            "pages": partial.pages,
            "requests": client.requests,
            "retries": client.retries,
            "duplicates_skipped": counts["duplicates"],
            "changed": counts["changed"],
            "deleted": len(counts["deleted_keys"]),
            "resumed_pages": resumed,
            "snapshot": out.name,
            "snapshot_sha256": sha256_of([parquet_tmp]),
        }
        meta_tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    partial.remove()
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
        mode=meta["mode"],
        changed=meta["changed"],
        deleted=meta["deleted"],
        resumed_pages=resumed,
    )


class _Partial:
    """The pages of an unfinished pull, and the cursor to go on from.

    A partial directory is resumed only by a pull with the same request (same source file
    settings and mode); any other is this tool's own leftover and is started afresh.
    """

    def __init__(self, path: Path, request: dict[str, Any]) -> None:
        self.path = path
        self.digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
        self.pages = 0
        self.cursor: dict[str, Any] | None = None
        self.started_at = _now()
        progress = self._read()
        if progress is not None and progress.get("request") == self.digest:
            self.pages = int(progress["pages"])
            self.cursor = progress["cursor"]
            self.started_at = progress["started_at"]
            log.info("resuming a pull after %d pages", self.pages)
        elif progress is not None:
            shutil.rmtree(path)
        elif path.exists():
            raise ConfigError(f"{path} is in the way of the pull and is not one of its own")

    @property
    def complete(self) -> bool:
        """Every page is in (the last one left no cursor): only assembling is left."""
        return self.pages > 0 and self.cursor is None

    def _read(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.path / "progress.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("format") == PARTIAL_FORMAT else None

    def add(self, page: Page, api: ApiSpec) -> None:
        """Write a page, then the cursor after it: a crash between the two re-reads one page."""
        self.path.mkdir(parents=True, exist_ok=True)
        name = self.path / f"page-{self.pages:07d}.parquet"
        columns = _columns(api)
        schema = pa.schema([*columns.items(), ("_deleted", pa.bool_())])
        rows = {c: [r.get(c) for r in page.records] for c in columns}
        rows["_deleted"] = [False] * len(page.records)
        key = key_column(api)
        for ident in page.deleted:
            for c in columns:
                rows[c].append(ident if c == key else None)
            rows["_deleted"].append(True)
        with atomic_file(name) as tmp:
            pq.write_table(pa.Table.from_pydict(rows, schema=schema), tmp)
        self.pages += 1
        progress = {
            "format": PARTIAL_FORMAT,
            "request": self.digest,
            "pages": self.pages,
            "cursor": page.cursor,
            "started_at": self.started_at,
        }
        with atomic_file(self.path / "progress.json") as tmp:
            tmp.write_text(json.dumps(progress), encoding="utf-8")
        log.info("page %d: %d records", self.pages, len(page.records))

    def files(self) -> list[Path]:
        return sorted(self.path.glob("page-*.parquet")) if self.path.exists() else []

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _pages(
    partial: _Partial, columns: dict[str, pa.DataType], key: str
) -> Iterator[tuple[pa.Table, list[str], int]]:
    """Each page's new records (a key seen on an earlier page is skipped, the first kept),
    the keys it reports deleted, and how many repeats it skipped."""
    schema = pa.schema(list(columns.items()))
    seen: set[str] = set()
    for file in partial.files():
        table = pq.read_table(file)
        flags = table.column("_deleted").to_pylist()
        keep, deleted, repeats = [], [], 0
        for i, (ident, gone) in enumerate(zip(table.column(key).to_pylist(), flags, strict=True)):
            if gone:
                deleted.append(str(ident))
            elif ident is None or ident not in seen:
                keep.append(i)
                if ident is not None:
                    seen.add(ident)
            else:
                repeats += 1
        rows = table.take(pa.array(keep, type=pa.int64()))
        yield rows.select(list(columns)).cast(schema), deleted, repeats


def _write_full(
    partial: _Partial, columns: dict[str, pa.DataType], key: str, path: Path
) -> dict[str, Any]:
    """The snapshot from a full pull's pages, one page in memory at a time."""
    counts: dict[str, Any] = {"records": 0, "duplicates": 0, "changed": 0, "deleted_keys": []}
    with pq.ParquetWriter(path, pa.schema(list(columns.items()))) as writer:
        for fresh, _, repeats in _pages(partial, columns, key):
            writer.write_table(fresh)
            counts["records"] += fresh.num_rows
            counts["duplicates"] += repeats
    counts["changed"] = counts["records"]
    return counts


def _merge(
    partial: _Partial, columns: dict[str, pa.DataType], key: str, path: Path, old: Path
) -> dict[str, Any]:
    """An incremental pull's changes merged into the previous snapshot by key: changed
    records replace their old rows, deleted ones leave."""
    tables, deleted, repeats = [], [], 0
    for fresh, gone, skipped in _pages(partial, columns, key):
        tables.append(fresh)
        deleted += gone
        repeats += skipped
    changed = pl.from_arrow(pa.concat_tables(tables)) if tables else None
    changed_keys = set(changed[key].drop_nulls().to_list()) if changed is not None else set()
    previous = pl.read_parquet(old)
    gone_keys = sorted((set(deleted) - changed_keys) & set(previous[key].to_list()))
    drop = pl.Series(sorted(changed_keys | set(gone_keys)), dtype=pl.String)
    kept = previous.filter(~pl.col(key).is_in(drop.implode()))
    merged = pl.concat([kept, changed], how="vertical_relaxed") if changed is not None else kept
    merged.write_parquet(path)
    return {
        "records": merged.height,
        "duplicates": repeats,
        "changed": 0 if changed is None else changed.height,
        "deleted_keys": gone_keys,
    }


def _record_deleted(out: Path, keys: list[str], when: str) -> None:
    """Append this pull's deletions to ``<stem>.deleted.parquet`` (key, when seen)."""
    if not keys:
        return
    path = out.with_name(f"{out.stem}.deleted.parquet")
    new = pl.DataFrame({"key": keys, "deleted_seen_at": [when] * len(keys)})
    frame = pl.concat([pl.read_parquet(path), new]) if path.exists() else new
    with atomic_file(path) as tmp:
        frame.write_parquet(tmp)


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


def _columns(api: ApiSpec) -> dict[str, pa.DataType]:
    if api.kind == "hubspot":
        cols: dict[str, pa.DataType] = {"id": pa.string()}
        cols.update({p: pa.string() for p in api.properties if p != "id"})
        cols.update({f"associations.{a}": pa.list_(pa.string()) for a in api.associations})
        return cols
    return {f: pa.string() for f in api.fields}


def _describe_request(api: ApiSpec, since: str | None) -> dict[str, Any]:
    if api.kind == "hubspot":
        request: dict[str, Any] = {
            "path": f"/crm/v3/objects/{api.object}" + ("/search" if since else ""),
            "properties": list(api.properties),
            "associations": list(api.associations),
            "page_size": api.page_size,
        }
    else:
        resource = "queryAll" if since else "query"
        request = {"path": f"/services/data/{api.api_version}/{resource}", "soql": soql(api, since)}
    if since:
        request["since"] = since
    return request
