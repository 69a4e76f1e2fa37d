"""The Spark engine: the compiled rules run as Spark SQL, locally or on a cluster.

The session is the one the environment already gives (a notebook, ``spark-submit``, a
Databricks job), else one started for ``--spark-master``, else a local one. Parquet
inputs already in the canonical schema are read by Spark itself (on a cluster they must
sit on storage every executor reaches); other inputs are typed by polars first and sent
over as Arrow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from listbuilder.engines.base import (
    INCLUDED,
    ROW,
    EngineTable,
    Scored,
    counts_sql,
    event_stats_sql,
    finish,
    histogram_sql,
    included_sql,
    missing_dependency,
)
from listbuilder.errors import ConfigError, DataError
from listbuilder.rules import Rules
from listbuilder.rules.signals import EVENT_DATE
from listbuilder.rules.sql import (
    PLACEMENT_TABLE,
    PREVIOUS_TABLE,
    for_dialect,
    placements_sql,
    table_name,
)

JAVA_HINT = (
    "Spark needs a Java runtime (17 or later): install one (Debian/Ubuntu: "
    "apt-get install default-jre-headless) or point JAVA_HOME at it"
)
# Small inputs on one machine: Spark's default of 200 shuffle partitions is all overhead.
LOCAL_SHUFFLE_PARTITIONS = 8


def _pyspark() -> Any:
    try:
        import pyspark.sql
    except ImportError:
        raise missing_dependency("spark", "pyspark") from None
    return pyspark.sql


def start_session(master: str | None) -> Any:
    """The environment's active Spark session, or one started on ``master``.

    Raises:
        ConfigError: pyspark is missing, or the session cannot start (no Java runtime,
            an unreachable master); the message says what to install or check.
    """
    sql = _pyspark()
    if master is None and (active := sql.SparkSession.getActiveSession()) is not None:
        return active
    builder = sql.SparkSession.builder.master(master or "local[*]").appName("listbuilder")
    builder = builder.config("spark.sql.session.timeZone", "UTC").config(
        "spark.ui.showConsoleProgress", "false"
    )
    if (master or "local").startswith("local"):
        builder = builder.config("spark.ui.enabled", "false").config(
            "spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS)
        )
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # py4j and pyspark raise many kinds here
        text = " ".join(str(exc).split())[:300]
        hint = JAVA_HINT if "JAVA" in text.upper() else "check --spark-master and the cluster"
        raise ConfigError(f"the Spark session could not start ({text}); {hint}") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine:
    """Runs the rules as Spark SQL."""

    name = "spark"

    def __init__(self, master: str | None = None) -> None:
        _pyspark()
        self.master = master

    def _frame(self, spark: Any, table: EngineTable, *, numbered: bool) -> Any:
        from pyspark.sql import functions as F

        if table.parquet:
            # One read per file, numbered in polars' order: a multi-file read would hand
            # out rows in Spark's split order instead.
            parts = []
            for k, path in enumerate(table.parquet):
                df = spark.read.parquet(str(Path(path).resolve()))
                if numbered:
                    index = F.col("_metadata.row_index") + F.lit(k << 40)
                    df = df.select("*", index.cast("bigint").alias(ROW))
                parts.append(df)
            result = parts[0]
            for part in parts[1:]:
                result = result.unionByName(part)
            return result
        frame = table.frame
        if numbered:
            frame = frame.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
        return spark.createDataFrame(frame.collect().to_arrow(compat_level=pl.CompatLevel.oldest()))

    def score(
        self,
        rules: Rules,
        tables: dict[str, EngineTable],
        as_of: dt.date,
        *,
        previous_seats: pl.DataFrame | None = None,
    ) -> Scored:
        """Score every company in Spark; only the included companies come back."""
        views = (*(table_name(t) for t in tables), PREVIOUS_TABLE, INCLUDED)
        with self._session("run the rules", views) as spark:
            return self._score(spark, rules, tables, as_of, previous_seats)

    def place(self, rules: Rules, accounts: pl.DataFrame, *, sticky: bool) -> pl.DataFrame:
        """Each segment's list placed by Spark SQL (``placements_sql``)."""
        with self._session("place the lists", (PLACEMENT_TABLE,)) as spark:
            arrow = accounts.to_arrow(compat_level=pl.CompatLevel.oldest())
            spark.createDataFrame(arrow).createOrReplaceTempView(PLACEMENT_TABLE)
            query = placements_sql(rules, sticky=sticky).sql(dialect="spark")
            placed = pl.from_arrow(spark.sql(query).toArrow())
        assert isinstance(placed, pl.DataFrame)
        return placed

    @contextmanager
    def _session(self, doing: str, views: tuple[str, ...]) -> Iterator[Any]:
        """The Spark session; its errors become ``DataError``, and ``views`` are dropped
        after, so nothing of this run stays in a shared session."""
        spark = start_session(self.master)
        # Column names are compared as the rules write them; a session the environment
        # shares (a notebook) gets its own setting back afterwards.
        before = spark.conf.get("spark.sql.caseSensitive", None)
        spark.conf.set("spark.sql.caseSensitive", "true")
        try:
            yield spark
        except Exception as exc:
            if isinstance(exc, ConfigError | DataError):
                raise
            text = " ".join(str(exc).split())[:500]
            raise DataError(f"the spark engine could not {doing}: {text}") from None
        finally:
            for name in views:
                spark.catalog.dropTempView(name)
            if before is None:
                spark.conf.unset("spark.sql.caseSensitive")
            else:
                spark.conf.set("spark.sql.caseSensitive", before)

    def _score(
        self,
        spark: Any,
        rules: Rules,
        tables: dict[str, EngineTable],
        as_of: dt.date,
        previous_seats: pl.DataFrame | None,
    ) -> Scored:
        frames = {}
        for logical, table in tables.items():
            frames[logical] = self._frame(spark, table, numbered=logical == "companies")
            frames[logical].createOrReplaceTempView(table_name(logical))
        if previous_seats is not None:
            arrow = previous_seats.to_arrow(compat_level=pl.CompatLevel.oldest())
            spark.createDataFrame(arrow).createOrReplaceTempView(PREVIOUS_TABLE)
        sticky = previous_seats is not None
        query = included_sql(rules, as_of, tables, sticky=sticky, engine="spark")
        included = spark.sql(for_dialect(query, "spark").sql(dialect="spark"))
        included = included.persist()
        try:
            included.createOrReplaceTempView(INCLUDED)
            counts = spark.sql(counts_sql(rules, INCLUDED).sql(dialect="spark")).first().asDict()
            counts["read"] = frames["companies"].count()
            histograms = [
                [
                    tuple(r)
                    for r in spark.sql(histogram_sql(i, INCLUDED).sql(dialect="spark")).collect()
                ]
                for i in range(len(rules.segments))
            ]
            rows = pl.from_arrow(spark.sql(f"SELECT * FROM {INCLUDED}").toArrow())
        finally:
            included.unpersist()
        event_stats = {
            logical: tuple(
                spark.sql(
                    event_stats_sql(table_name(logical), EVENT_DATE[logical]).sql("spark")
                ).first()
            )
            for logical in tables
            if logical != "companies"
        }
        assert isinstance(rows, pl.DataFrame)
        return finish(counts, histograms, rows, event_stats)
