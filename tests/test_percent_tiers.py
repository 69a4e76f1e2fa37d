"""Percentage tiers and fit/intent tiers, against a one-account-at-a-time reference written
from the rules reference: accounts by score descending then company_id; each takes the
first tier it reaches (every threshold) that has room; ``max_accounts`` stops the list;
rank by tier, then score descending, then company_id.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from listbuilder.rules import Tier, assign_tiers
from tests.conftest import Workspace


def reaches(tier: Tier, a: dict[str, Any]) -> bool:
    return (
        (tier.min_score is None or a["score"] >= tier.min_score)
        and (tier.min_percent is None or a["percent"] >= tier.min_percent)
        and (tier.min_fit is None or a["fit_score"] >= tier.min_fit)
        and (tier.min_intent is None or a["intent_score"] >= tier.min_intent)
    )


def reference(
    accounts: list[dict[str, Any]], tiers: tuple[Tier, ...], cap: int | None
) -> list[tuple[str, str, int]]:
    taken = [0] * len(tiers)
    placed = []
    for a in sorted(accounts, key=lambda a: (-a["score"], a["company_id"])):
        if cap is not None and len(placed) >= cap:
            break
        for ix, tier in enumerate(tiers):
            if reaches(tier, a) and (tier.max_accounts is None or taken[ix] < tier.max_accounts):
                taken[ix] += 1
                placed.append((ix, -a["score"], a["company_id"]))
                break
    placed.sort()
    return [(cid, tiers[ix].name, rank + 1) for rank, (ix, _, cid) in enumerate(placed)]


MAX_POINTS = 7


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[dict[str, Any]], tuple[Tier, ...], int | None]:
    n = draw(st.integers(0, 25))
    accounts = []
    for k in range(n):
        fit = draw(st.integers(-2, 4))
        intent = draw(st.integers(0, 3))
        score = fit + intent
        accounts.append(
            {
                "company_id": f"c{k:02d}",
                "score": score,
                "fit_score": fit,
                "intent_score": intent,
                "percent": score / MAX_POINTS * 100,
            }
        )
    tiers = []
    for k in range(draw(st.integers(1, 4))):
        tiers.append(
            Tier(
                f"T{k + 1}",
                None,
                draw(st.one_of(st.none(), st.integers(1, 6))),
                None,
                f"tiers[{k}]",
                draw(st.one_of(st.none(), st.sampled_from([0, 42.857142857142854, 60, 80]))),
                draw(st.one_of(st.none(), st.integers(-1, 4))),
                draw(st.one_of(st.none(), st.integers(0, 3))),
            )
        )
    return accounts, tuple(tiers), draw(st.one_of(st.none(), st.integers(1, 15)))


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_percent_and_fit_intent_tiers_match_the_reference(
    scenario: tuple[list[dict[str, Any]], tuple[Tier, ...], int | None],
) -> None:
    accounts, tiers, cap = scenario
    ranked = pl.DataFrame(
        accounts,
        schema={
            "company_id": pl.String,
            "score": pl.Int64,
            "fit_score": pl.Int64,
            "intent_score": pl.Int64,
            "percent": pl.Float64,
        },
    ).sort(["score", "company_id"], descending=[True, False])
    listed, plans = assign_tiers(ranked, tiers, cap)
    expected = reference(accounts, tiers, cap)
    assert listed.select("company_id", "tier", "rank").rows() == expected
    assert [p.size for p in plans] == [sum(1 for e in expected if e[1] == t.name) for t in tiers]


RUBRIC = """
[[segments]]
name = "rubric"
[[segments.score]]
label = "mid-market"
when = { employees = { min = 50, max = 500 } }
points = 3
[[segments.score]]
label = "software"
when = { industry = ["Software"] }
points = 2
[[segments.score]]
label = "uses a CRM"
when = { technologies = { contains = ["crm", "salesforce"] } }
points = 1
group = "intent"
[[segments.score]]
label = "public"
when = { funding_stage = ["Public"] }
points = -2
[[segments.tiers]]
name = "Green"
min_percent = 80
[[segments.tiers]]
name = "Yellow"
min_percent = 60
[[segments.tiers]]
name = "Red"
min_percent = 0
"""


def test_green_yellow_red_on_a_build(ws: Workspace) -> None:
    ws.companies(
        [
            # 3 + 2 + 1 = 6 of 6: 100%
            {
                "company_id": "a",
                "employees": 100,
                "industry": "Software",
                "technologies": ["HubSpot CRM"],
            },
            # 3 + 2 = 5 of 6: 83.3%
            {"company_id": "b", "employees": 100, "industry": "software", "technologies": []},
            # 3 + 1 = 4 of 6: 66.7%
            {"company_id": "c", "employees": 60, "technologies": ["Salesforce"]},
            # 3 + 2 + 1 - 2 = 4: 66.7%, negative points count
            {
                "company_id": "d",
                "employees": 60,
                "industry": "Software",
                "technologies": ["salesforce"],
                "funding_stage": "Public",
            },
            # 2 of 6: 33.3%
            {"company_id": "e", "industry": "Software", "technologies": [None]},
            # -2: below 0% and not listed
            {"company_id": "f", "funding_stage": "Public"},
        ]
    )
    ws.rules(RUBRIC)
    ws.build()
    rows = (
        ws.listed("rubric")
        .select("company_id", "tier", "rank", "score", "percent", "fit_score", "intent_score")
        .rows()
    )
    assert rows == [
        ("a", "Green", 1, 6, 100.0, 5, 1),
        ("b", "Green", 2, 5, 500 / 6, 5, 0),
        ("c", "Yellow", 3, 4, 400 / 6, 3, 1),
        ("d", "Yellow", 4, 4, 400 / 6, 3, 1),
        ("e", "Red", 5, 2, 200 / 6, 2, 0),
    ]
    plan = ws.summary()["segments"][0]["tier_plan"]
    assert [(t["name"], t["min_percent"], t["threshold"]) for t in plan] == [
        ("Green", 80.0, "percent >= 80"),
        ("Yellow", 60.0, "percent >= 60"),
        ("Red", 0.0, "percent >= 0"),
    ]
