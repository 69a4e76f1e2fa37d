"""HubSpot: target-account flags, ICP tier, score and reasons on CRM companies.

Batch update (``POST /crm/v3/objects/companies/batch/update``, at most 100 inputs a
request) sets ``hs_is_target_account``, ``hs_ideal_customer_profile`` (``tier_1`` to
``tier_3``) and the score and reasons properties the source file names; an untag sets the
flag to false and clears the rest. Static lists per segment are kept in step with the lists
API v3 (``PUT /crm/v3/lists/{listId}/memberships/add`` and ``.../remove``). Companies not
in the CRM are created only when asked (``batch/create``), keyed by domain.
"""

from __future__ import annotations

from typing import Any

from listbuilder.inputs import Client
from listbuilder.outputs.push.plan import TIER_VALUES, Plan, as_entries, tier_value
from listbuilder.outputs.push.settings import Destination
from listbuilder.outputs.push.state import PushState, Record, record_accepted

OBJECTS = "/crm/v3/objects/companies"


def properties(dest: Destination, record: Record | None) -> dict[str, str]:
    """The company properties a record sets; ``None`` gives the untagging values."""
    props = {
        "hs_is_target_account": "true" if record else "false",
        "hs_ideal_customer_profile": (record or {}).get("tier_value") or "",
    }
    if dest.score_property:
        props[dest.score_property] = "" if record is None else str(record["score"])
    if dest.reasons_property:
        props[dest.reasons_property] = "" if record is None else record["reasons"] or ""
    return props


def push(
    client: Client, dest: Destination, plan: Plan, state: PushState, create_missing: bool
) -> list[dict[str, Any]]:
    """Send the plan; journal what HubSpot accepted; return per-record errors."""
    errors: list[dict[str, Any]] = []
    upserts = dict(plan.upserts)
    if create_missing and not plan.not_in_crm.is_empty():
        upserts.update(_create(client, dest, plan, state, errors))
    for removed, items in ((False, upserts), (True, plan.untags)):
        keys = list(items)
        for start in range(0, len(keys), dest.batch_size):
            batch = {k: items[k] for k in keys[start : start + dest.batch_size]}
            inputs = [
                {"id": k, "properties": properties(dest, None if removed else r)}
                for k, r in batch.items()
            ]
            answer = client.send("POST", f"{OBJECTS}/batch/update", json_body={"inputs": inputs})
            failed = _failed_ids(answer.body, errors, "untag" if removed else "update")
            accepted = {k: r for k, r in batch.items() if k not in failed}
            _sync_lists(client, state, accepted, removed, errors)
            record_accepted(state, as_entries(accepted, removed=removed))
    return errors


def _failed_ids(body: Any, errors: list[dict[str, Any]], action: str) -> set[str]:
    """Ids HubSpot reported in a batch's ``errors`` (a 207 multi-status answer)."""
    failed: set[str] = set()
    for err in (body or {}).get("errors", []) if isinstance(body, dict) else []:
        ids = [str(i) for i in (err.get("context") or {}).get("ids", [])] or ["?"]
        for key in ids:
            failed.add(key)
            errors.append(
                {
                    "key": key,
                    "action": action,
                    "code": str(err.get("category") or err.get("status") or ""),
                    "message": str(err.get("message") or ""),
                }
            )
    return failed


def _sync_lists(
    client: Client,
    state: PushState,
    accepted: dict[str, Record],
    removed: bool,
    errors: list[dict[str, Any]],
) -> None:
    """Move accepted companies between the segments' static lists."""
    adds: dict[str, list[str]] = {}
    drops: dict[str, list[str]] = {}
    for key, record in accepted.items():
        before = (state.records.get(key) or {}).get("list")
        after = None if removed else record.get("list")
        if before != after:
            if before:
                drops.setdefault(before, []).append(key)
            if after:
                adds.setdefault(after, []).append(key)
    for verb, moves in (("remove", drops), ("add", adds)):
        for list_id, ids in sorted(moves.items()):
            answer = client.send(
                "PUT", f"/crm/v3/lists/{list_id}/memberships/{verb}", json_body=ids
            )
            for missing in (
                (answer.body or {}).get("recordIdsMissing", [])
                if isinstance(answer.body, dict)
                else []
            ):
                errors.append(
                    {
                        "key": str(missing),
                        "action": f"list {verb}",
                        "code": "MISSING",
                        "message": f"list {list_id} does not know this company",
                    }
                )


def _create(
    client: Client, dest: Destination, plan: Plan, state: PushState, errors: list[dict[str, Any]]
) -> dict[str, Record]:
    """Create the listed companies the CRM lacks (the plan has already matched, by domain,
    those an earlier push created, so none is created twice)."""
    to_create: list[Record] = []
    for row in plan.not_in_crm.to_dicts():
        record = {
            "segment": row["segment"],
            "tier": row["tier"],
            "score": row["score"],
            "reasons": row["reasons"],
            "name": row["name"],
            "domain": row["domain"],
            "company_id": row["company_id"],
            "created": True,
            "list": dest.lists.get(row["segment"]),
            "tier_value": tier_value(row["tier_index"], dest.tier_values or TIER_VALUES),
        }
        if not row["domain"]:
            errors.append(
                {
                    "key": row["company_id"],
                    "action": "create",
                    "code": "NO_DOMAIN",
                    "message": "companies are created keyed by domain; this one has none",
                }
            )
        else:
            to_create.append(record)
    for start in range(0, len(to_create), dest.batch_size):
        batch = to_create[start : start + dest.batch_size]
        inputs = [
            {"properties": {"name": r["name"] or "", "domain": r["domain"], **properties(dest, r)}}
            for r in batch
        ]
        answer = client.send("POST", f"{OBJECTS}/batch/create", json_body={"inputs": inputs})
        by_domain = {r["domain"]: r for r in batch}
        made: dict[str, Record] = {}
        for result in (answer.body or {}).get("results", []):
            domain = (result.get("properties") or {}).get("domain")
            if domain in by_domain:
                made[str(result["id"])] = by_domain.pop(domain)
        _failed_ids(answer.body, errors, "create")
        _sync_lists(client, state, made, False, errors)
        record_accepted(state, as_entries(made))
    # Created companies are tagged as they are created: nothing is left to update.
    return {}
