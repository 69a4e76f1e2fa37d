"""The sanity band of a segment's size, and the verdict the report shows on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from listbuilder.outputs.charts import num
from listbuilder.outputs.facts import SegmentInfo

# The sanity band for a segment's size. LinkedIn takes company lists of at least 300
# companies and recommends 1,000 or more, since not every company on a list matches; a
# primary ICP segment is a few thousand addressable accounts, so a five-figure one is a
# market, not a profile.
ADS_MIN = 300
ADS_RECOMMENDED = 1_000
ICP_MAX = 10_000


@dataclass(frozen=True)
class SizeCheck:
    """A segment's size against the sanity band: ``ok``, ``warn`` or ``bad``, and why."""

    level: Literal["ok", "warn", "bad"]
    title: str
    reason: str


def size_check(listed: int, addressable: int) -> SizeCheck:
    """Judge a segment's size: too big to be an ICP, too small to run ads on, or fine.

    Args:
        listed: Accounts on the segment's list.
        addressable: Accounts that qualify and are not in the CRM or an earlier segment
            (the list before its caps).
    """
    if addressable > ICP_MAX:
        capped = f"; the caps list {num(listed)} of them" if listed < addressable else ""
        return SizeCheck(
            "bad",
            "Far too big to be an ICP",
            f"{num(addressable)} accounts qualify outside the CRM{capped}. A primary segment "
            f"is a few thousand addressable accounts (at most {num(ICP_MAX)} here): "
            "tighten the includes or raise the tier thresholds.",
        )
    if listed < ADS_MIN:
        return SizeCheck(
            "bad",
            "Too small to run ads on",
            f"{num(listed)} accounts listed. LinkedIn takes company lists of at least "
            f"{num(ADS_MIN)} companies: widen the includes, lower the thresholds or merge "
            "the segment with another.",
        )
    if listed < ADS_RECOMMENDED:
        return SizeCheck(
            "warn",
            "Small for account-based ads",
            f"{num(listed)} accounts listed. LinkedIn recommends company lists of at least "
            f"{num(ADS_RECOMMENDED)} companies, since not every company on a list matches.",
        )
    return SizeCheck(
        "ok",
        "Within the ICP band",
        f"{num(listed)} accounts listed, between {num(ADS_RECOMMENDED)} and {num(ICP_MAX)}: "
        "a few thousand addressable accounts, enough for ad platforms to match.",
    )


def segment_size_check(funnel: dict[str, int]) -> SizeCheck:
    """``size_check`` of a segment's funnel as ``summary.json`` records it."""
    return size_check(funnel["listed"], funnel["listed"] + funnel["not_listed_caps"])


def check_of(seg: SegmentInfo) -> SizeCheck:
    """The size verdict of a segment: its list against the list before its caps."""
    return segment_size_check(seg.funnel)
