"""The build itself: score, suppress CRM customers, tier and rank, hold last month's
seats, and say what changed. Takes sources and rules; gives a ``BuildResult`` of frames.
"""

from listbuilder.build.changes import CHANGE_KINDS, change_counts, load_previous
from listbuilder.build.lists import BuildResult, build_lists, check_inputs, missing_event_tables

__all__ = [
    "CHANGE_KINDS",
    "BuildResult",
    "build_lists",
    "change_counts",
    "check_inputs",
    "load_previous",
    "missing_event_tables",
]
