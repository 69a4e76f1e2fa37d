"""Salesforce: tier, score and reasons fields on Accounts.

Up to ``bulk_threshold`` records go through sObject Collections (``PATCH
/services/data/vXX.X/composite/sobjects``, at most 200 records a request, ``allOrNone``
false, one result per record in order). More go through a Bulk API 2.0 ingest job: create
the job, upload the CSV, close it, poll until it ends, then read its failed results. An
untag sets every field to null (``#N/A`` in a Bulk CSV, as Salesforce documents).

A scheduled run need not depend on a pasted two-hour session token: with the client id,
secret and refresh token variables of the source file's ``[api]`` set, the refresh-token
flow (``listbuilder.inputs.oauth``) gets a fresh one.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from listbuilder.errors import PushError
from listbuilder.inputs import Client
from listbuilder.outputs.push.plan import Plan, as_entries
from listbuilder.outputs.push.settings import Destination
from listbuilder.outputs.push.state import PushState, Record, record_accepted

TERMINAL = ("JobComplete", "Failed", "Aborted")
MAX_POLLS = 10_000


def fields(dest: Destination, record: Record | None) -> dict[str, Any]:
    """The Account fields a record sets; ``None`` clears them (an untag)."""
    out: dict[str, Any] = {}
    if dest.tier_field:
        out[dest.tier_field] = (
            None
            if record is None
            else (record.get("tier_value") if dest.tier_values else record["tier"])
        )
    if dest.score_field:
        out[dest.score_field] = None if record is None else record["score"]
    if dest.reasons_field:
        out[dest.reasons_field] = None if record is None else record["reasons"]
    return out


def push(
    client: Client, dest: Destination, plan: Plan, state: PushState, create_missing: bool
) -> list[dict[str, Any]]:
    """Send the plan; journal what Salesforce accepted; return per-record errors."""
    del create_missing  # Accounts are never created from a list.
    errors: list[dict[str, Any]] = []
    total = len(plan.upserts) + len(plan.untags)
    send = _bulk if total > dest.bulk_threshold else _collections
    for removed, items in ((False, plan.upserts), (True, plan.untags)):
        if items:
            send(client, dest, state, items, removed, errors)
    return errors


def _collections(
    client: Client,
    dest: Destination,
    state: PushState,
    items: dict[str, Record],
    removed: bool,
    errors: list[dict[str, Any]],
) -> None:
    keys = list(items)
    base = f"/services/data/{dest.api_version}/composite/sobjects"
    for start in range(0, len(keys), dest.batch_size):
        batch = keys[start : start + dest.batch_size]
        records = [
            {
                "attributes": {"type": dest.object},
                "id": k,
                **fields(dest, None if removed else items[k]),
            }
            for k in batch
        ]
        answer = client.send("PATCH", base, json_body={"allOrNone": False, "records": records})
        results = answer.body if isinstance(answer.body, list) else []
        if len(results) != len(batch):
            raise PushError(f"Salesforce answered {len(results)} results for {len(batch)} records")
        accepted = {}
        for key, result in zip(batch, results, strict=True):
            if result.get("success"):
                accepted[key] = items[key]
            else:
                for err in result.get("errors") or [{}]:
                    errors.append(
                        {
                            "key": key,
                            "action": "untag" if removed else "update",
                            "code": str(err.get("statusCode") or ""),
                            "message": str(err.get("message") or ""),
                        }
                    )
        record_accepted(state, as_entries(accepted, removed=removed))


def _bulk(
    client: Client,
    dest: Destination,
    state: PushState,
    items: dict[str, Record],
    removed: bool,
    errors: list[dict[str, Any]],
) -> None:
    base = f"/services/data/{dest.api_version}/jobs/ingest"
    job = client.send(
        "POST",
        base,
        json_body={
            "object": dest.object,
            "operation": "update",
            "contentType": "CSV",
            "lineEnding": "LF",
        },
    ).body
    job_id = job["id"]
    client.send(
        "PUT",
        f"{base}/{job_id}/batches",
        data=_csv(dest, items, removed),
        headers={"Content-Type": "text/csv"},
    )
    client.send("PATCH", f"{base}/{job_id}", json_body={"state": "UploadComplete"})
    for _ in range(MAX_POLLS):
        info = client.send("GET", f"{base}/{job_id}").body or {}
        if info.get("state") in TERMINAL:
            break
        client.sleep(dest.poll_seconds)
    else:
        raise PushError(f"Bulk API job {job_id} did not finish; nothing from it is recorded")
    if info.get("state") != "JobComplete":
        raise PushError(
            f"Bulk API job {job_id} ended {info.get('state')}: {info.get('errorMessage', '')}"
        )
    failed_csv = client.send(
        "GET", f"{base}/{job_id}/failedResults/", headers={"Accept": "text/csv"}
    ).text
    failed: set[str] = set()
    for row in csv.DictReader(io.StringIO(failed_csv)):
        key = row.get("Id") or row.get("sf__Id") or ""
        failed.add(key)
        errors.append(
            {
                "key": key,
                "action": "untag" if removed else "update",
                "code": "BULK",
                "message": row.get("sf__Error", ""),
            }
        )
    record_accepted(
        state, as_entries({k: v for k, v in items.items() if k not in failed}, removed=removed)
    )


def _csv(dest: Destination, items: dict[str, Record], removed: bool) -> bytes:
    names = list(fields(dest, None))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Id", *names])
    for key, record in items.items():
        values = fields(dest, None if removed else record)
        writer.writerow([key, *("#N/A" if values[n] is None else values[n] for n in names)])
    return out.getvalue().encode("utf-8")
