"""LinkedIn: one company DMP segment per list segment (or per tier), kept in step.

``POST /rest/dmpSegments/{id}/companies`` with ``X-RestLi-Method: BATCH_CREATE`` takes
elements ``{action: ADD | REMOVE, companyName, companyWebsiteDomain}``; the documented
``LinkedIn-Version`` and ``X-Restli-Protocol-Version: 2.0.0`` headers go with every
request, and requests are paced to the per-minute limit the ``[push]`` table gives.
"""

from __future__ import annotations

from typing import Any

from listbuilder.inputs import Client
from listbuilder.outputs.push.plan import Plan, as_entries
from listbuilder.outputs.push.settings import Destination
from listbuilder.outputs.push.state import PushState, Record, record_accepted


def segment_id(urn_or_id: str) -> str:
    """``urn:li:dmpSegment:123`` or ``123`` -> ``123``."""
    return urn_or_id.rsplit(":", 1)[-1]


def element(action: str, record: Record) -> dict[str, Any]:
    """One BATCH_CREATE element for a company."""
    out: dict[str, Any] = {"action": action, "companyName": record.get("name") or ""}
    if record.get("domain"):
        out["companyWebsiteDomain"] = record["domain"]
    if record.get("organization_urn"):
        out["organizationUrn"] = record["organization_urn"]
    return out


def push(
    client: Client, dest: Destination, plan: Plan, state: PushState, create_missing: bool
) -> list[dict[str, Any]]:
    """Send ADDs for new members and REMOVEs for departed ones, per audience."""
    del create_missing
    errors: list[dict[str, Any]] = []
    headers = {
        "X-RestLi-Method": "BATCH_CREATE",
        "LinkedIn-Version": dest.api_version,
        "X-Restli-Protocol-Version": "2.0.0",
    }
    for action, items, removed in (("REMOVE", plan.untags, True), ("ADD", plan.upserts, False)):
        by_audience: dict[str, list[str]] = {}
        for key, record in items.items():
            by_audience.setdefault(record["audience"], []).append(key)
        for audience, keys in sorted(by_audience.items()):
            path = f"/rest/dmpSegments/{segment_id(audience)}/companies"
            for start in range(0, len(keys), dest.batch_size):
                batch = keys[start : start + dest.batch_size]
                body = {"elements": [element(action, items[k]) for k in batch]}
                answer = client.send("POST", path, json_body=body, headers=headers)
                results = (
                    (answer.body or {}).get("elements", []) if isinstance(answer.body, dict) else []
                )
                accepted = {}
                for i, key in enumerate(batch):
                    status = results[i].get("status", 201) if i < len(results) else answer.status
                    if 200 <= int(status) < 300:
                        accepted[key] = items[key]
                    else:
                        err = results[i].get("error") or {}
                        errors.append(
                            {
                                "key": key,
                                "action": action.lower(),
                                "code": str(status),
                                "message": str(err.get("message") or err),
                            }
                        )
                record_accepted(state, as_entries(accepted, removed=removed))
    return errors
