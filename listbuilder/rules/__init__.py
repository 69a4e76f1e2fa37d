"""The rules file: parsing into frozen dataclasses, conditions, signal criteria, scoring
and tiers. Takes ``rules/*.toml``; gives ``Rules`` and the polars expressions that score
companies against them.
"""

from listbuilder.rules.conditions import Condition, column_kind
from listbuilder.rules.definitions import (
    DEFAULT_EXCLUDE_STATUS,
    AttributeCriterion,
    EventCriterion,
    GrowthCriterion,
    Rules,
    Segment,
    SignalCriterion,
    SignalName,
    Tier,
)
from listbuilder.rules.reader import load_rules, parse_rules
from listbuilder.rules.scoring import (
    evaluate_ids,
    exclude_col,
    fired_col,
    fired_labels_expr,
    include_col,
    included_col,
    reaches,
    reasons_expr,
    score_companies,
)
from listbuilder.rules.signals import (
    EVENT_DATE,
    attach_signals,
    attach_signals_at,
    event_matches,
    window_start,
)
from listbuilder.rules.sql import (
    DIALECTS,
    candidates_sql,
    compile_rules,
    parse_table_options,
    render,
    rules_sql,
)
from listbuilder.rules.tiers import TierPlan, assign_tiers, plan_tiers, tier_plans

__all__ = [
    "DEFAULT_EXCLUDE_STATUS",
    "DIALECTS",
    "EVENT_DATE",
    "AttributeCriterion",
    "Condition",
    "EventCriterion",
    "GrowthCriterion",
    "Rules",
    "Segment",
    "SignalCriterion",
    "SignalName",
    "Tier",
    "TierPlan",
    "assign_tiers",
    "attach_signals",
    "attach_signals_at",
    "candidates_sql",
    "column_kind",
    "compile_rules",
    "evaluate_ids",
    "event_matches",
    "exclude_col",
    "fired_col",
    "fired_labels_expr",
    "include_col",
    "included_col",
    "load_rules",
    "parse_rules",
    "parse_table_options",
    "plan_tiers",
    "reaches",
    "reasons_expr",
    "render",
    "rules_sql",
    "score_companies",
    "tier_plans",
    "window_start",
]
