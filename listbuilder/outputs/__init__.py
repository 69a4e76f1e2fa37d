"""Everything written to disk: the run directory, CSV safety, vendor exports, the report
and its charts. Takes a ``BuildResult``; gives files.
"""

from listbuilder.outputs.csvsafe import (
    FORMULA_LOOKALIKES,
    FORMULA_PREFIXES,
    csv_records,
    encode_csv,
    header_record,
    neutralise,
    record_sizes,
)
from listbuilder.outputs.exports import (
    REGISTRY,
    Column,
    Destination,
    destination_names,
    export_run,
    register,
    text,
    write_exports,
)
from listbuilder.outputs.facts import bad_value_warnings
from listbuilder.outputs.report import (
    ADS_MIN,
    ADS_RECOMMENDED,
    ICP_MAX,
    REPORT_FILE,
    TABLE_ROWS,
    TOP_ROWS,
    render_report,
    segment_size_check,
    size_check,
    write_report,
)
from listbuilder.outputs.run import (
    crm_warnings,
    date_warnings,
    format_summary,
    run_build,
)

__all__ = [
    "ADS_MIN",
    "ADS_RECOMMENDED",
    "FORMULA_LOOKALIKES",
    "FORMULA_PREFIXES",
    "ICP_MAX",
    "REGISTRY",
    "REPORT_FILE",
    "TABLE_ROWS",
    "TOP_ROWS",
    "Column",
    "Destination",
    "bad_value_warnings",
    "crm_warnings",
    "csv_records",
    "date_warnings",
    "destination_names",
    "encode_csv",
    "export_run",
    "format_summary",
    "header_record",
    "neutralise",
    "record_sizes",
    "register",
    "render_report",
    "run_build",
    "segment_size_check",
    "size_check",
    "text",
    "write_exports",
    "write_report",
]
