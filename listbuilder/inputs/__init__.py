"""Reading data: plain files and vendor source definitions, value parsers, registrable
domains, and the CRM API pull. Takes paths; gives typed lazy tables (``Source``).
"""

from listbuilder.inputs.crm_api import PullError, PullResult, pull
from listbuilder.inputs.domains import (
    SHARED_DOMAINS,
    domain_expr,
    domain_label_expr,
    host_expr,
    normalise_domain,
    normalise_domains,
    registrable_domain_expr,
)
from listbuilder.inputs.http import Answer, Client, Refused
from listbuilder.inputs.oauth import access_token
from listbuilder.inputs.parsers import band, band_bounds, country, domain, funding_stage
from listbuilder.inputs.sourcefiles import (
    bad_value_counts,
    check_values,
    input_key,
    load_source_def,
    open_source,
    read_event_tables,
    read_events,
    read_source,
)
from listbuilder.inputs.tables import (
    EVENT_DATE_COLUMNS,
    FORMATS,
    ROLES,
    Source,
    event_date_column,
    resolve_files,
)

__all__ = [
    "EVENT_DATE_COLUMNS",
    "FORMATS",
    "ROLES",
    "SHARED_DOMAINS",
    "Answer",
    "Client",
    "PullError",
    "PullResult",
    "Refused",
    "Source",
    "access_token",
    "bad_value_counts",
    "band",
    "band_bounds",
    "check_values",
    "country",
    "domain",
    "domain_expr",
    "domain_label_expr",
    "event_date_column",
    "funding_stage",
    "host_expr",
    "input_key",
    "load_source_def",
    "normalise_domain",
    "normalise_domains",
    "open_source",
    "pull",
    "read_event_tables",
    "read_events",
    "read_source",
    "registrable_domain_expr",
    "resolve_files",
]
