"""The rules compiled to SQL (``scored``) and written for a warehouse (``query``)."""

from listbuilder.rules.sql.aggregates import for_dialect
from listbuilder.rules.sql.placement import (
    PLACEMENT_TABLE,
    placement_columns,
    placement_sql,
    placements_sql,
)
from listbuilder.rules.sql.query import (
    DIALECTS,
    candidates_sql,
    parse_table_options,
    reasons_sql,
    render,
    rules_sql,
)
from listbuilder.rules.sql.scored import (
    CANONICAL_SCHEMAS,
    DEFAULT_TABLES,
    PREVIOUS_TABLE,
    SqlPlan,
    compile_rules,
    condition_sql,
    table_name,
    unsupported,
)

__all__ = [
    "CANONICAL_SCHEMAS",
    "DEFAULT_TABLES",
    "DIALECTS",
    "PLACEMENT_TABLE",
    "PREVIOUS_TABLE",
    "SqlPlan",
    "candidates_sql",
    "compile_rules",
    "condition_sql",
    "for_dialect",
    "parse_table_options",
    "placement_columns",
    "placement_sql",
    "placements_sql",
    "reasons_sql",
    "render",
    "rules_sql",
    "table_name",
    "unsupported",
]
