"""Conditions on one column, and the operator table that compiles and explains them.

A condition is written in a rules file as ``column = value``. The shape of the value picks
the operator: a list means "is one of", a table with ``min``/``max`` a range, a table with
``any``/``all``/``none`` a test on a list column, ``{ contains = [...] }`` a case-insensitive
substring test, ``{ missing = true }`` a null test, and a bare scalar equality. Each
operator is one entry in ``OPERATORS`` that gives both the polars expression and the words
that explain it, so a filter and its reason never drift.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

OperatorName = Literal["in", "equals", "range", "any", "all", "none", "contains", "missing"]
ColumnKind = Literal["string", "number", "date", "bool", "list", "other"]
Scalar = str | int | float | bool | dt.date


def column_kind(dtype: pl.DataType) -> ColumnKind:
    """Classify a polars dtype into the kinds the operators care about."""
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "string"
    if dtype.is_numeric():
        return "number"
    if dtype in (pl.Date, pl.Datetime) or isinstance(dtype, pl.Datetime):
        return "date"
    if dtype == pl.Boolean:
        return "bool"
    if isinstance(dtype, pl.List):
        return "list"
    return "other"


def _lower(values: tuple[Scalar, ...]) -> list[Any]:
    return [v.lower() if isinstance(v, str) else v for v in values]


def _is_day(value: Any) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _as_compared(column: str, values: tuple[Any, ...]) -> pl.Expr:
    """The column, as days when the rule gives days: a timestamp is on its date."""
    col = pl.col(column)
    return col.cast(pl.Date) if any(_is_day(v) for v in values) else col


def _scalar_in(column: str, values: tuple[Scalar, ...]) -> pl.Expr:
    if all(isinstance(v, str) for v in values):
        # Vendors disagree on case ("Software" vs "software"); rule authors should not care.
        return pl.col(column).cast(pl.String).str.to_lowercase().is_in(_lower(values))
    # Not `is_in`: it wants the values typed exactly as the column, and a rule says
    # `[1, 2]` for a float column or `[10, 20.5]` for an integer one.
    col = _as_compared(column, values)
    return pl.any_horizontal([col == v for v in values])


def _equals(column: str, value: Scalar) -> pl.Expr:
    if isinstance(value, str):
        return pl.col(column).cast(pl.String).str.to_lowercase() == value.lower()
    return _as_compared(column, (value,)) == value


def _range(column: str, bounds: tuple[Scalar | None, Scalar | None]) -> pl.Expr:
    low, high = bounds
    col = _as_compared(column, bounds)
    if low is not None and high is not None:
        return col.is_between(low, high, closed="both")
    if low is not None:
        return col >= low
    return col <= high


def _lowered_list(column: str) -> pl.Expr:
    return pl.col(column).list.eval(pl.element().str.to_lowercase())


def _list_any(column: str, values: tuple[Scalar, ...]) -> pl.Expr:
    return (
        pl.col(column).list.eval(pl.element().str.to_lowercase().is_in(_lower(values))).list.any()
    )


def _list_all(column: str, values: tuple[Scalar, ...]) -> pl.Expr:
    lowered = _lowered_list(column)
    return pl.all_horizontal([lowered.list.contains(v) for v in _lower(values)])


def _list_none(column: str, values: tuple[Scalar, ...]) -> pl.Expr:
    return ~_list_any(column, values)


def _contains(column: str, values: tuple[Scalar, ...]) -> pl.Expr:
    """Any given string occurs in the value, ignoring case; literal, never a pattern.

    Works on text and on lists of text alike (true when any element contains one): a
    text value is wrapped as a one-element list, so one expression serves both kinds. A
    null value, a null element and an empty list contain nothing.
    """
    wanted = [str(v).lower() for v in values]
    # Aho-Corasick over all the strings at once: one pass over each value.
    test = pl.element().str.to_lowercase().str.contains_any(wanted).fill_null(False)
    return pl.concat_list([pl.col(column)]).list.eval(test).list.any()


def _missing(column: str, value: bool) -> pl.Expr:
    return pl.col(column).is_null() if value else pl.col(column).is_not_null()


def _fmt(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(_fmt(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _describe_range(column: str, bounds: tuple[Any, Any]) -> str:
    low, high = bounds
    if low is not None and high is not None:
        return f"{column} between {_fmt(low)} and {_fmt(high)}"
    if low is not None:
        return f"{column} at least {_fmt(low)}"
    return f"{column} at most {_fmt(high)}"


@dataclass(frozen=True)
class Operator:
    """One way of testing a column: how to compile it, explain it, and on what kinds."""

    compile: Callable[[str, Any], pl.Expr]
    describe: Callable[[str, Any], str]
    kinds: frozenset[ColumnKind]


OPERATORS: dict[OperatorName, Operator] = {
    "in": Operator(
        _scalar_in,
        lambda c, v: f"{c} is one of {_fmt(v)}",
        frozenset({"string", "number", "date", "bool"}),
    ),
    "equals": Operator(
        _equals, lambda c, v: f"{c} is {_fmt(v)}", frozenset({"string", "number", "date", "bool"})
    ),
    "range": Operator(_range, _describe_range, frozenset({"number", "date"})),
    "any": Operator(_list_any, lambda c, v: f"{c} include any of {_fmt(v)}", frozenset({"list"})),
    "all": Operator(_list_all, lambda c, v: f"{c} include all of {_fmt(v)}", frozenset({"list"})),
    "none": Operator(
        _list_none, lambda c, v: f"{c} include none of {_fmt(v)}", frozenset({"list"})
    ),
    "contains": Operator(
        _contains,
        lambda c, v: f"{c} contains any of {_fmt(v)}",
        frozenset({"string", "list"}),
    ),
    "missing": Operator(
        _missing,
        lambda c, v: f"{c} is missing" if v else f"{c} is present",
        frozenset({"string", "number", "date", "bool", "list", "other"}),
    ),
}


@dataclass(frozen=True)
class Condition:
    """A test on one company column, parsed and validated from a rules file.

    Attributes:
        column: The company column tested.
        op: The operator name, a key of ``OPERATORS``.
        value: The operator's argument (a tuple of values, a ``(min, max)`` pair, or a scalar).
        path: Where the condition was written, e.g. ``segments[0].include.industry``.
    """

    column: str
    op: OperatorName
    value: Any
    path: str

    def expr(self) -> pl.Expr:
        """Compile to a boolean expression; a null value makes any test but ``missing`` false."""
        compiled = OPERATORS[self.op].compile(self.column, self.value)
        return compiled if self.op == "missing" else compiled.fill_null(False)

    def describe(self) -> str:
        """Say in words what the condition requires, e.g. ``employees between 50 and 1,000``."""
        return OPERATORS[self.op].describe(self.column, self.value)

    def check_dtype(self, dtype: pl.DataType) -> str | None:
        """Return why this condition cannot apply to a column of ``dtype``, or None if it can."""
        kind = column_kind(dtype)
        op = OPERATORS[self.op]
        if kind not in op.kinds:
            if kind == "list":
                return (
                    f"{self.path}: column `{self.column}` is a list; "
                    "use { any = [...] }, { all = [...] }, { none = [...] }, { contains = [...] } "
                    "or { missing = ... }"
                )
            return (
                f"{self.path}: `{self.op}` does not apply to column `{self.column}` "
                f"of type {dtype}; it takes {', '.join(sorted(op.kinds))} columns"
            )
        values = self.value if isinstance(self.value, tuple) else (self.value,)
        values = tuple(v for v in values if v is not None)
        if self.op == "missing":
            return None
        expected: type | tuple[type, ...]
        if kind in ("string", "list"):
            expected, label = str, "strings"
        elif kind == "number":
            expected, label = (int, float), "numbers"
        elif kind == "date":
            expected, label = dt.date, "dates"
        else:
            expected, label = bool, "true/false"
        bad = [
            v
            for v in values
            if not isinstance(v, expected) or (kind == "number" and isinstance(v, bool))
        ]
        if bad:
            return (
                f"{self.path}: column `{self.column}` holds {kind} values, so the rule "
                f"must give {label}; got {bad[0]!r}"
            )
        return None
