"""ICP from evidence: won and lost deals at their created date, ``profile``, ``backtest``
and ``explain``. Reads rules and matches; gives tables and proposed rules.
"""

from listbuilder.evidence.backtest import (
    BOOTSTRAP_REPLICATES,
    BOOTSTRAP_SEED,
    Backtest,
    backtest_evidence,
    bootstrap_auc,
    format_backtest,
    roc_auc,
    run_backtest,
    write_backtest,
)
from listbuilder.evidence.deals import (
    MIN_DEALS,
    gather_evidence,
    prepare_deals,
    read_stored_matches,
    wilson_interval,
)
from listbuilder.evidence.explain import (
    Explanation,
    SegmentOutcome,
    explain_company,
    format_explanation,
    run_explain,
    run_explain_run,
)
from listbuilder.evidence.icp import MIN_CLOSED_DEALS, Proposal
from listbuilder.evidence.inference import (
    bh_adjust,
    bootstrap_rates,
    clustered_tests,
    scorecard_points,
    temporal_split,
)
from listbuilder.evidence.profile import (
    HOLDOUT,
    Profile,
    best_versus_worst,
    format_profile,
    profile_evidence,
    run_profile,
    value_table,
)

__all__ = [
    "BOOTSTRAP_REPLICATES",
    "BOOTSTRAP_SEED",
    "HOLDOUT",
    "MIN_CLOSED_DEALS",
    "MIN_DEALS",
    "Backtest",
    "Explanation",
    "Profile",
    "Proposal",
    "SegmentOutcome",
    "backtest_evidence",
    "best_versus_worst",
    "bh_adjust",
    "bootstrap_auc",
    "bootstrap_rates",
    "clustered_tests",
    "explain_company",
    "format_backtest",
    "format_explanation",
    "format_profile",
    "gather_evidence",
    "prepare_deals",
    "profile_evidence",
    "read_stored_matches",
    "roc_auc",
    "run_backtest",
    "run_explain",
    "run_explain_run",
    "run_profile",
    "scorecard_points",
    "temporal_split",
    "value_table",
    "wilson_interval",
    "write_backtest",
]
