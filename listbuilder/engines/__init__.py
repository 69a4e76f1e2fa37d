"""Where the rules run: polars (the default), an embedded DuckDB, or Spark.

Takes parsed rules and the input tables; gives the whole-dataset part of a build
(``Scored``): the funnel's counts and the companies that pass some segment's includes.
CRM matching, suppression and tiers stay in Python, on those companies only.
"""

from listbuilder.engines.base import ENGINES, Engine, EngineTable, Scored, table_of
from listbuilder.engines.select import get_engine

__all__ = ["ENGINES", "Engine", "EngineTable", "Scored", "get_engine", "table_of"]
