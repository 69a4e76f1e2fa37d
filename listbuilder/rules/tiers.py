"""Tier assignment: ranked accounts fill tiers top-down, overflowing when a tier is full.

Accounts are taken by score descending, then ``company_id`` ascending; each takes the first
tier it reaches (every threshold the tier gives) that still has room, and the segment's
``max_accounts`` stops the list. Taking accounts one at a time is the same as filling the
tiers one at a time: a tier's seats go to the first accounts, in ranked order, that reach
it and were not seated higher. So assignment is one vectorised pass per tier (a handful),
never a loop over rows, and it holds for tiers that do not nest (a fit/intent two-by-two).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import polars as pl

from listbuilder.rules.definitions import Tier


@dataclass(frozen=True)
class TierPlan:
    """Where each tier starts and ends in the ranked list (``end`` exclusive)."""

    name: str
    start: int
    end: int

    @property
    def size(self) -> int:
        """Accounts placed in this tier."""
        return self.end - self.start


def plan_tiers(
    reaching: list[int], tiers: tuple[Tier, ...], max_accounts: int | None
) -> list[TierPlan]:
    """Compute tier boundaries from how many ranked accounts reach each tier's threshold.

    Args:
        reaching: For each tier, the number of accounts whose score reaches its
            ``min_score`` (non-decreasing, since thresholds strictly descend).
        tiers: The segment's tiers, highest first.
        max_accounts: The segment's cap on its whole list, if any.
    """
    plans = []
    start = 0
    limit = max_accounts if max_accounts is not None else float("inf")
    for tier, n_reach in zip(tiers, reaching, strict=True):
        # Everyone before `start` is placed already; the rest who reach this tier compete.
        end = n_reach if tier.max_accounts is None else min(n_reach, start + tier.max_accounts)
        end = int(min(max(end, start), limit))
        plans.append(TierPlan(tier.name, start, end))
        start = end
    return plans


def assign_tiers(
    ranked: pl.DataFrame,
    tiers: tuple[Tier, ...],
    max_accounts: int | None,
    *,
    pinned: str | None = None,
) -> tuple[pl.DataFrame, list[TierPlan]]:
    """Give each listed account its ``tier`` and ``rank``; drop those not listed.

    Args:
        ranked: Candidate accounts already sorted by score descending, ``company_id``
            ascending, with an integer ``score`` column (and ``percent``, ``fit_score``,
            ``intent_score`` when a tier gives a threshold on them).
        tiers: The segment's tiers, highest first.
        max_accounts: The segment's cap on its whole list, if any.
        pinned: Optional column holding, for accounts held by tier stickiness, the index
            of the tier they keep (null for the rest). Held accounts take their seats
            first, within the tier's and the segment's caps; everyone else fills what is
            left in the usual order.

    Returns:
        The listed accounts with ``tier``, ``rank`` (1-based) and ``held`` columns, and
        the plan (tier sizes; ``start``/``end`` refer to the accounts not held).
    """
    # Rows, not ids, are what is seated: a dataset may hold one company_id twice.
    ranked = ranked.with_row_index("_tiers_row")
    held = pl.DataFrame(schema={**ranked.schema, "_tier_ix": pl.Int32})
    if pinned is not None:
        held = _seat_held(ranked, pinned, tiers, max_accounts)
        ranked = ranked.join(held.select("_tiers_row"), on="_tiers_row", how="anti")
        counts = held["_tier_ix"].value_counts()
        seats = dict(zip(counts["_tier_ix"].to_list(), counts["count"].to_list(), strict=True))
        tiers = tuple(
            dataclasses.replace(t, max_accounts=t.max_accounts - seats.get(ix, 0))
            if t.max_accounts is not None
            else t
            for ix, t in enumerate(tiers)
        )
        if max_accounts is not None:
            max_accounts -= held.height
    seated = _fill(ranked, tiers, max_accounts)
    listed = pl.concat(
        [held.with_columns(held=pl.lit(True)), seated.with_columns(held=pl.lit(False))],
        how="diagonal_relaxed",
    ).sort(
        ["_tier_ix", "score", "company_id"], descending=[False, True, False], maintain_order=True
    )
    names = {ix: t.name for ix, t in enumerate(tiers)}
    listed = listed.with_columns(
        tier=pl.col("_tier_ix").replace_strict(names, return_dtype=pl.String),
        rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
    ).drop("_tier_ix", "_tiers_row")
    return listed, tier_plans(tiers, listed)


def tier_plans(tiers: tuple[Tier, ...], listed: pl.DataFrame) -> list[TierPlan]:
    """Each tier's place in a listed frame (its ``tier`` column), highest tier first."""
    sizes = listed["tier"].value_counts()
    size_of = dict(zip(sizes["tier"].to_list(), sizes["count"].to_list(), strict=True))
    plans, start = [], 0
    for tier in tiers:
        plans.append(TierPlan(tier.name, start, start + size_of.get(tier.name, 0)))
        start = plans[-1].end
    return plans


def _reached(tier: Tier) -> pl.Expr:
    return tier.reached(
        pl.col("score"), pl.col("percent"), pl.col("fit_score"), pl.col("intent_score")
    )


def _fill(ranked: pl.DataFrame, tiers: tuple[Tier, ...], max_accounts: int | None) -> pl.DataFrame:
    """The ranked accounts that get a seat, with ``_tier_ix``; tier by tier, in rank order."""
    frame = ranked.with_columns(_tier_ix=pl.lit(None, pl.Int32))
    for ix, tier in enumerate(tiers):
        open_ = _reached(tier) & pl.col("_tier_ix").is_null()
        take = open_
        if tier.max_accounts is not None:
            take = open_ & (open_.cast(pl.Int64).cum_sum() <= tier.max_accounts)
        frame = frame.with_columns(
            _tier_ix=pl.when(take).then(pl.lit(ix, pl.Int32)).otherwise(pl.col("_tier_ix"))
        )
    seated = frame.filter(pl.col("_tier_ix").is_not_null())
    return seated.head(max(max_accounts, 0)) if max_accounts is not None else seated


def _seat_held(
    ranked: pl.DataFrame, pinned: str, tiers: tuple[Tier, ...], max_accounts: int | None
) -> pl.DataFrame:
    """Held accounts that fit their tier's cap (and the segment's), best scores first."""
    caps = {ix: t.max_accounts for ix, t in enumerate(tiers) if t.max_accounts is not None}
    held = ranked.filter(pl.col(pinned).is_not_null()).with_columns(
        _tier_ix=pl.col(pinned).cast(pl.Int32)
    )
    seat = pl.int_range(pl.len()).over("_tier_ix")
    cap = pl.col("_tier_ix").replace_strict(caps, default=None, return_dtype=pl.Int64)
    held = held.filter(cap.is_null() | (seat < cap))
    if max_accounts is not None:
        held = held.head(max_accounts)
    return held
