"""The DuckDB engine: the compiled rules run in an embedded DuckDB, in this process.

Parquet inputs that already hold the canonical schema are scanned by DuckDB itself;
other inputs (CSV, source definitions) are read and typed by polars first and handed
over as Arrow. DuckDB spills to disk when a join or aggregation outgrows memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
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
from listbuilder.errors import DataError
from listbuilder.rules import Rules
from listbuilder.rules.signals import EVENT_DATE
from listbuilder.rules.sql import PLACEMENT_TABLE, PREVIOUS_TABLE, placements_sql, table_name


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise missing_dependency("duckdb", "duckdb") from None
    return duckdb


def _sql_path(path: object) -> str:
    return "'" + str(path).replace("'", "''") + "'"


class DuckDBEngine:
    """Runs the rules in an in-process DuckDB database."""

    name = "duckdb"

    def __init__(self) -> None:
        self._duckdb = _duckdb()

    def _register(self, con: Any, name: str, table: EngineTable, *, numbered: bool) -> None:
        if table.parquet:
            files = ", ".join(_sql_path(p) for p in table.parquet)
            if numbered:
                # The files' order and each row's place in its file: polars' scan order.
                row = (
                    f"(list_position([{files}], _lb_file)::BIGINT << 40) + file_row_number AS {ROW}"
                )
                con.execute(
                    f'CREATE VIEW "{name}" AS SELECT * EXCLUDE (_lb_file, file_row_number), '
                    f"{row} FROM read_parquet([{files}], filename='_lb_file', "
                    "file_row_number=true)"
                )
            else:
                con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM read_parquet([{files}])')
            return
        frame = table.frame.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
        con.register(name, (frame if numbered else table.frame).collect().to_arrow())

    def score(
        self,
        rules: Rules,
        tables: dict[str, EngineTable],
        as_of: dt.date,
        *,
        previous_seats: pl.DataFrame | None = None,
    ) -> Scored:
        """Score every company in DuckDB; only the included companies come back."""
        with self._connection("run the rules") as con:
            for logical, table in tables.items():
                self._register(con, table_name(logical), table, numbered=logical == "companies")
            if previous_seats is not None:
                con.register(PREVIOUS_TABLE, previous_seats.to_arrow())
            sticky = previous_seats is not None
            query = included_sql(rules, as_of, tables, sticky=sticky, engine="duckdb").sql(
                dialect="duckdb"
            )
            con.execute(f"CREATE TEMP TABLE {INCLUDED} AS {query}")
            counts_row = con.execute(counts_sql(rules, INCLUDED).sql(dialect="duckdb"))
            names = [d[0] for d in counts_row.description]
            counts = dict(zip(names, counts_row.fetchone(), strict=True))
            counts["read"] = con.execute('SELECT COUNT(*) FROM "companies"').fetchone()[0]
            histograms = [
                con.execute(histogram_sql(i, INCLUDED).sql(dialect="duckdb")).fetchall()
                for i in range(len(rules.segments))
            ]
            included = pl.from_arrow(con.sql(f"SELECT * FROM {INCLUDED}").to_arrow_table())
            event_stats = {
                logical: con.execute(
                    event_stats_sql(table_name(logical), EVENT_DATE[logical]).sql("duckdb")
                ).fetchone()
                for logical in tables
                if logical != "companies"
            }
        assert isinstance(included, pl.DataFrame)
        return finish(counts, histograms, included, event_stats)

    def place(self, rules: Rules, accounts: pl.DataFrame, *, sticky: bool) -> pl.DataFrame:
        """Each segment's list placed in DuckDB (``placements_sql``)."""
        with self._connection("place the lists") as con:
            con.register(PLACEMENT_TABLE, accounts.to_arrow())
            query = placements_sql(rules, sticky=sticky).sql(dialect="duckdb")
            placed = pl.from_arrow(con.sql(query).to_arrow_table())
        assert isinstance(placed, pl.DataFrame)
        return placed

    @contextmanager
    def _connection(self, doing: str) -> Iterator[Any]:
        """A fresh in-memory database, closed after; its errors become ``DataError``."""
        con = self._duckdb.connect()
        try:
            yield con
        except self._duckdb.Error as exc:
            raise DataError(f"the duckdb engine could not {doing}: {_one_line(exc)}") from None
        finally:
            con.close()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:500]
