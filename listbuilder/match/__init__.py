"""CRM matching: name normalisation, blocking, the match decision and the ``match``
command's run. Takes companies and CRM accounts; gives scored pairs and the best match.
"""

from listbuilder.match.blocking import candidate_pairs
from listbuilder.match.command import (
    check_confirmed,
    format_match_summary,
    read_confirmed,
    run_match,
)
from listbuilder.match.compare import compare, prepare
from listbuilder.match.linkage import FIELDS, Model, estimate, prior_model, score
from listbuilder.match.model import (
    DEFAULT_REVIEW_THRESHOLD,
    DEFAULT_THRESHOLD,
    MatchResult,
    MatchSettings,
    match_crm,
    match_frames,
)
from listbuilder.match.names import (
    LEGAL_FORMS,
    core_name_expr,
    name_expr,
    normalise_name,
    normalise_names,
)

__all__ = [
    "DEFAULT_REVIEW_THRESHOLD",
    "DEFAULT_THRESHOLD",
    "FIELDS",
    "LEGAL_FORMS",
    "MatchResult",
    "MatchSettings",
    "Model",
    "candidate_pairs",
    "check_confirmed",
    "compare",
    "core_name_expr",
    "estimate",
    "format_match_summary",
    "match_crm",
    "match_frames",
    "name_expr",
    "normalise_name",
    "normalise_names",
    "prepare",
    "prior_model",
    "read_confirmed",
    "run_match",
    "score",
]
