"""Reading data: plain files and vendor source definitions, value parsers, registrable
domains, and the CRM API pull. Takes paths; gives typed lazy tables (``Source``).
"""

from listbuilder.inputs.crm_api import PullError, PullResult, pull
from listbuilder.inputs.domains import (
    SHARED_DOMAINS,
    domain_expr,
    domain_label_expr,
    host_expr,
    is_own_domain_expr,
    normalise_domain,
    normalise_domains,
    registrable_domain_expr,
)
from listbuilder.inputs.events import input_key, read_event_tables, read_events
from listbuilder.inputs.http import Answer, Client, Refused
from listbuilder.inputs.oauth import access_token
from listbuilder.inputs.parsers import (
    band,
    band_bounds,
    country,
    country_code,
    domain,
    funding_stage,
)
from listbuilder.inputs.plainfiles import (
    PLAIN_PARSERS,
    VENDOR_EXPORTS,
    implied_definition,
    read_plain,
    read_source,
    vendor_export,
)
from listbuilder.inputs.sourcefiles import (
    BadValues,
    bad_value_counts,
    check_values,
    load_source_def,
    open_source,
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
    "PLAIN_PARSERS",
    "ROLES",
    "SHARED_DOMAINS",
    "VENDOR_EXPORTS",
    "Answer",
    "BadValues",
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
    "country_code",
    "domain",
    "domain_expr",
    "domain_label_expr",
    "event_date_column",
    "funding_stage",
    "host_expr",
    "implied_definition",
    "input_key",
    "is_own_domain_expr",
    "load_source_def",
    "normalise_domain",
    "normalise_domains",
    "open_source",
    "pull",
    "read_event_tables",
    "read_events",
    "read_plain",
    "read_source",
    "registrable_domain_expr",
    "resolve_files",
    "vendor_export",
]
