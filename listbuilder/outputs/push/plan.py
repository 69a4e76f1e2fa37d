"""The plan: compare a run's lists with what a destination last received.

Accounts that are listed now and are new, or whose segment, tier, score or reasons
changed, are *upserted*; accounts the destination holds from an earlier push that are no
longer listed are *untagged*. Everything else is left alone, so a month's push sends only
the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from listbuilder.errors import DataError
from listbuilder.files import read_run_summary
from listbuilder.outputs.push.settings import Destination
from listbuilder.outputs.push.state import PushState, Record

TIER_VALUES = ("tier_1", "tier_2", "tier_3")
# A company column carrying the LinkedIn organization URN (urn:li:organization:123), when
# the company data has one: LinkedIn then matches the company exactly, not by name and domain.
URN_COLUMN = "linkedin_organization_urn"
COMPARED = ("segment", "tier", "score", "reasons", "audience")


@dataclass(frozen=True)
class Plan:
    """What a push will send: upserts and untags by key, and listed accounts it cannot send."""

    destination: str
    upserts: dict[str, Record]
    untags: dict[str, Record]
    unchanged: int
    not_in_crm: pl.DataFrame
    audience_sizes: dict[str, int]

    def counts(self) -> dict[str, int]:
        """Counts per action, as printed by ``--dry-run`` and kept in the push summary."""
        return {
            "add_or_update": len(self.upserts),
            "untag": len(self.untags),
            "unchanged": self.unchanged,
            "not_in_crm": self.not_in_crm.height,
        }


def read_listed(run_dir: str | Path) -> pl.DataFrame:
    """Every listed account of a run, one row per account, with its tier's position.

    Raises:
        DataError: ``run_dir`` is not a run directory, or a list file is missing.
    """
    run_dir = Path(run_dir)
    summary_path, summary = read_run_summary(run_dir)
    segments = summary.get("segments") if isinstance(summary, dict) else None
    if not isinstance(segments, list):
        raise DataError(f"{summary_path} names no list segments: is it a listbuilder summary?")
    frames = []
    for seg in segments:
        path = run_dir / seg["file"]
        if not path.is_file():
            raise DataError(
                f"run directory {run_dir} lacks {seg['file']}, a list its summary names"
            )
        tiers = [t["name"] for t in seg.get("tier_plan", [])]
        frame = pl.read_parquet(path, columns=None)
        cols = ["segment", "tier", "rank", "score", "reasons", "company_id", "name", "domain"]
        crm = frame["crm_account_id"] if "crm_account_id" in frame.columns else None
        urn = frame[URN_COLUMN] if URN_COLUMN in frame.columns else None
        frame = frame.select(cols).with_columns(
            crm_account_id=crm if crm is not None else pl.lit(None, pl.String),
            organization_urn=urn.cast(pl.String) if urn is not None else pl.lit(None, pl.String),
            tier_index=pl.col("tier").replace_strict(
                tiers, list(range(len(tiers))), default=None, return_dtype=pl.Int32
            ),
        )
        frames.append(frame)
    if not frames:
        return pl.DataFrame()
    return pl.concat(frames, how="vertical_relaxed").sort("segment", "rank")


def tier_value(tier_index: int | None, values: tuple[str, ...] = TIER_VALUES) -> str | None:
    """The destination's value for a tier position: the export's mapping, best first.

    Tiers below the last value share it, as the HubSpot export does (a segment with four
    tiers sends its fourth as ``tier_3``).
    """
    if tier_index is None or not values:
        return None
    return values[min(tier_index, len(values) - 1)]


def _audience(dest: Destination, segment: str, tier: str) -> str | None:
    if dest.per == "tier":
        return dest.audiences.get(f"{segment}/{tier}")
    return dest.audiences.get(segment)


def desired_records(
    dest: Destination, listed: pl.DataFrame, state: PushState | None = None
) -> tuple[dict[str, Record], pl.DataFrame]:
    """What the destination should hold after the push, by key, and the rows it cannot hold.

    CRMs are keyed by CRM account id (only matched accounts can be updated); LinkedIn by
    audience and company domain (or name when there is no domain). A company an earlier
    push created in HubSpot (``--create-missing``) keeps the id HubSpot gave it, found by
    its domain, until a pull brings that id into the CRM data.
    """
    created = {
        r.get("domain"): k
        for k, r in (state.records if state else {}).items()
        if r and r.get("created")
    }
    desired: dict[str, Record] = {}
    if listed.is_empty():
        return desired, listed
    rows = listed.to_dicts()
    missing = []
    for row in rows:
        record = {
            "segment": row["segment"],
            "tier": row["tier"],
            "tier_value": tier_value(row["tier_index"], dest.tier_values or TIER_VALUES),
            "score": row["score"],
            "reasons": row["reasons"],
            "name": row["name"],
            "domain": row["domain"],
            "company_id": row["company_id"],
        }
        if dest.kind == "linkedin":
            if row["organization_urn"]:
                record["organization_urn"] = row["organization_urn"]
            audience = _audience(dest, row["segment"], row["tier"])
            if audience is None:
                continue
            record["audience"] = audience
            key = f"{audience}|{row['domain'] or row['name']}"
        else:
            record["list"] = dest.lists.get(row["segment"])
            if row["crm_account_id"] is not None:
                key = str(row["crm_account_id"])
            elif row["domain"] in created:
                key = created[row["domain"]]
                record["created"] = True
            else:
                missing.append(row)
                continue
        desired.setdefault(key, record)
    not_in_crm = pl.DataFrame(missing, schema=listed.schema) if missing else listed.clear()
    return desired, not_in_crm


def make_plan(dest: Destination, listed: pl.DataFrame, state: PushState) -> Plan:
    """Compare the run's listed accounts with the destination's state."""
    desired, not_in_crm = desired_records(dest, listed, state)
    upserts: dict[str, Record] = {}
    unchanged = 0
    # An audience is membership only: a member whose tier or score changed needs nothing.
    compared = () if dest.kind == "linkedin" else (*COMPARED, "list")
    for key, record in desired.items():
        before = state.records.get(key)
        if before is not None and all(before.get(c) == record.get(c) for c in compared):
            unchanged += 1
        else:
            upserts[key] = record
    untags = {k: v for k, v in state.records.items() if k not in desired}
    sizes: dict[str, int] = {}
    if dest.kind == "linkedin":
        for record in desired.values():
            sizes[record["audience"]] = sizes.get(record["audience"], 0) + 1
    return Plan(dest.kind, upserts, dict(sorted(untags.items())), unchanged, not_in_crm, sizes)


def format_plan(plan: Plan, shown: int = 5) -> str:
    """The plan in words: counts per action and the first rows of each."""
    counts = plan.counts()
    add, untag = ("add", "remove") if plan.destination == "linkedin" else ("add or update", "untag")
    lines = [
        f"push plan for {plan.destination}: {counts['add_or_update']:,} to {add}, "
        f"{counts['untag']:,} to {untag}, {counts['unchanged']:,} unchanged"
    ]
    if counts["not_in_crm"]:
        lines.append(
            f"  {counts['not_in_crm']:,} listed accounts have no CRM record and are not sent"
            + (" (add --create-missing to create them)" if plan.destination == "hubspot" else "")
        )
    for title, items in ((add, plan.upserts), (untag, plan.untags)):
        for key, rec in list(items.items())[:shown]:
            where = rec.get("audience") or key
            lines.append(
                f"  {title:13}  {where:24}  {rec.get('name') or ''} ({rec.get('domain') or '-'}): "
                f"{rec.get('segment')}, {rec.get('tier')}, score {rec.get('score')}"
            )
    for audience, size in sorted(plan.audience_sizes.items()):
        if size < 300:
            lines.append(
                f"  warning: audience {audience} will hold {size} companies; LinkedIn needs at "
                "least 300 before it serves ads to a company list"
            )
    return "\n".join(lines)


def as_entries(items: dict[str, Any], removed: bool = False) -> list[dict[str, Any]]:
    """Journal entries for accepted keys (``removed`` for untags)."""
    return [{"key": k, "record": None if removed else v} for k, v in items.items()]
