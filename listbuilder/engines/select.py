"""Choosing an engine by name."""

from __future__ import annotations

from listbuilder.engines.base import ENGINES, Engine
from listbuilder.errors import ConfigError


def get_engine(name: str, *, spark_master: str | None = None) -> Engine | None:
    """The engine called ``name``; None for polars, which the build runs itself.

    Raises:
        ConfigError: The name is unknown, or the engine's package is not installed
            (the message gives the install command).
    """
    if name == "polars":
        if spark_master is not None:
            raise ConfigError("--spark-master applies to the spark engine only; add --engine spark")
        return None
    if name == "duckdb":
        if spark_master is not None:
            raise ConfigError("--spark-master applies to the spark engine only; add --engine spark")
        from listbuilder.engines.duck import DuckDBEngine

        return DuckDBEngine()
    if name == "spark":
        from listbuilder.engines.spark import SparkEngine

        return SparkEngine(master=spark_master)
    raise ConfigError(f"unknown engine {name!r}; valid engines are {list(ENGINES)}")
