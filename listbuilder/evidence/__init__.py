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
from listbuilder.evidence.deals import MIN_DEALS, gather_evidence, prepare_deals, wilson_interval
from listbuilder.evidence.explain import (
    Explanation,
    SegmentOutcome,
    explain_company,
    format_explanation,
    run_explain,
    run_explain_run,
)
from listbuilder.evidence.profile import (
    Profile,
    best_versus_worst,
    format_profile,
    profile_evidence,
    run_profile,
)

__all__ = [
    "BOOTSTRAP_REPLICATES",
    "BOOTSTRAP_SEED",
    "MIN_DEALS",
    "Backtest",
    "Explanation",
    "Profile",
    "SegmentOutcome",
    "backtest_evidence",
    "best_versus_worst",
    "bootstrap_auc",
    "explain_company",
    "format_backtest",
    "format_explanation",
    "format_profile",
    "gather_evidence",
    "prepare_deals",
    "profile_evidence",
    "roc_auc",
    "run_backtest",
    "run_explain",
    "run_explain_run",
    "run_profile",
    "wilson_interval",
    "write_backtest",
]
