"""Tier assignment: ranked accounts fill tiers top-down, overflowing when a tier is full.

Accounts are taken by score descending, then ``company_id`` ascending; each takes the first
tier whose ``min_score`` it reaches and that still has room. Because thresholds strictly
descend and accounts arrive in score order, every tier's members form one contiguous run
of the ranked list, and the listed accounts a prefix of it. So tier boundaries follow from
a handful of counts, and assignment is one vectorised ``when`` chain, not a loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from listbuilder.rules import Tier


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
    ranked: pl.DataFrame, tiers: tuple[Tier, ...], max_accounts: int | None
) -> tuple[pl.DataFrame, list[TierPlan]]:
    """Give each listed account its ``tier`` and ``rank``; drop those not listed.

    Args:
        ranked: Candidate accounts already sorted by score descending, ``company_id``
            ascending, with an integer ``score`` column.
        tiers: The segment's tiers, highest first.
        max_accounts: The segment's cap on its whole list, if any.

    Returns:
        The listed accounts with ``tier`` and ``rank`` (1-based) columns, and the plan.
    """
    reaching = ranked.select(
        [(pl.col("score") >= t.min_score).sum().alias(str(i)) for i, t in enumerate(tiers)]
    ).row(0)
    plans = plan_tiers([int(n) for n in reaching], tiers, max_accounts)
    listed = plans[-1].end if plans else 0
    position = pl.int_range(pl.len(), dtype=pl.Int64)
    tier = pl.lit(None, dtype=pl.String)
    for plan in reversed(plans):
        tier = pl.when(position < plan.end).then(pl.lit(plan.name)).otherwise(tier)
    result = ranked.head(listed).with_columns(tier=tier, rank=(position + 1).cast(pl.Int64))
    return result, plans
