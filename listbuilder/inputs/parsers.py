"""Value normalisers for source definitions: a small table of named, lazy polars transforms.

A source file names a normaliser per column (``normalise = "band"``) with its options as
sibling keys. Each normaliser is ``(expr, options) -> pl.Expr``: it receives the cleaned
source value as text (stripped, empty as null) and returns the canonical value, or null
when the value cannot be understood. A null out of a non-null value is a *bad value*:
``sourcedefs.bad_value_counts`` counts those rather than failing the run.

Everything is a vectorised expression; nothing calls Python per row, so a ten-million-row
vendor file streams. The two vocabularies (countries and funding stages) are small dicts
built once and applied with ``replace_strict``. Size bands are parsed once per distinct
text (a vendor column has a handful among millions of rows) and each streamed batch is
mapped through that cache.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pycountry

from listbuilder.inputs.domains import domain_expr, host_expr, is_own_domain_expr

BAND_POINTS = ("min", "mid", "max")
MAX_EMPLOYEES = 100_000_000

# A domain after normalising: two or more dot-separated labels of letters, digits and
# inner hyphens.
_LABEL = r"[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?"
_DOMAIN = rf"^{_LABEL}(?:\.{_LABEL})+$"


@dataclass(frozen=True)
class Option:
    """One option a normaliser accepts in a source file."""

    types: tuple[type, ...]
    expected: str
    default: Any = None
    choices: tuple[str, ...] = ()
    required: bool = False

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable, or None when it is."""
        if isinstance(value, bool) and bool not in self.types:
            return f"expected {self.expected}, got {value!r}"
        if not isinstance(value, self.types):
            return f"expected {self.expected}, got {type(value).__name__} {value!r}"
        if self.choices and value not in self.choices:
            return f"invalid value {value!r}; valid values are {list(self.choices)}"
        if isinstance(value, dict) and not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            return f"expected {self.expected}"
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            return f"expected {self.expected}"
        if isinstance(value, str) and not value and not self.choices:
            return f"expected {self.expected}, got an empty string"
        return None


@dataclass(frozen=True)
class Normaliser:
    """A named transform: the function, what it returns and the options it takes.

    ``fallible`` says whether it can turn a value into null (a bad value to count);
    ``takes_list`` whether it also accepts a list column as it is.
    """

    name: str
    func: Callable[[pl.Expr, Mapping[str, Any]], pl.Expr]
    dtype: pl.DataType
    summary: str
    options: Mapping[str, Option] = field(default_factory=dict)
    fallible: bool = True
    takes_list: bool = False

    def defaults(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The options as given, with defaults filled in for the rest."""
        return {k: given.get(k, o.default) for k, o in self.options.items()}


# --- employee size bands ---------------------------------------------------------------

_N = r"(\d+(?:\.\d+)?)\s*(k?)"


def _number(text: pl.Expr, pattern: str, group: int) -> pl.Expr:
    """The number captured by ``group`` (and a ``k`` suffix in ``group + 1``) as a float."""
    value = text.str.extract(pattern, group).cast(pl.Float64, strict=False)
    thousands = text.str.extract(pattern, group + 1) == "k"
    return pl.when(thousands).then(value * 1000).otherwise(value)


def _band_exprs(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(lower, upper) Int64 bounds of a band, as expressions over its text."""
    text = (
        text.str.to_lowercase()
        .str.replace_all(",", "")
        .str.replace_all(r"[\u2010-\u2015\u2212]", "-")
        .str.replace_all(r"\b(?:employees?|emp|people|persons|staff|ftes?|workers)\b\.?", " ")
        .str.replace(r"^c_0*(\d+)_max$", "${1}+")
        .str.replace(r"^c_0*(\d+)_0*(\d+)$", "${1}-${2}")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    rng = rf"^{_N}\s*(?:-|to)\s*{_N}$"
    plus = rf"^{_N}\s*(?:\+|or more|and (?:over|above|more)|plus)$"
    at_least = rf"^(?:>=|at least|min\.?|minimum)\s*{_N}$"
    over = rf"^(?:>|over|more than|above|greater than)\s*{_N}$"
    up_to = rf"^(?:<=|up to|max\.?|maximum)\s*{_N}$"
    under = rf"^(?:<|under|less than|fewer than|below)\s*{_N}$"
    single = rf"^{_N}$"
    self_employed = text.str.contains(r"^(?:self[- ]?employed|myself only|sole trader|just me)$")
    lower = pl.coalesce(
        _number(text, rng, 1),
        _number(text, plus, 1),
        _number(text, at_least, 1),
        _number(text, over, 1) + 1,
        pl.when(text.str.contains(up_to) | text.str.contains(under)).then(pl.lit(1.0)),
        _number(text, single, 1),
        pl.when(self_employed).then(pl.lit(1.0)),
    )
    upper = pl.coalesce(
        _number(text, rng, 3),
        _number(text, up_to, 1),
        _number(text, under, 1) - 1,
        _number(text, single, 1),
        pl.when(self_employed).then(pl.lit(1.0)),
    )
    # No company has more staff than this; a longer number is a typo or an id, not a band.
    too_big = float(MAX_EMPLOYEES)
    lower = pl.when(lower <= too_big).then(lower.round(0)).cast(pl.Int64, strict=False)
    upper_ok = upper.is_null() | (upper <= too_big)
    upper = pl.when(upper <= too_big).then(upper.round(0)).cast(pl.Int64, strict=False)
    ok = lower.is_not_null() & (lower >= 0) & upper_ok & (upper.is_null() | (upper >= lower))
    return pl.when(ok).then(lower), pl.when(ok).then(upper)


# A vendor's band column has a handful of distinct values; a column with many more is
# numbers written as text, parsed batch by batch without the cache.
_BAND_CACHE_LIMIT = 2_000


def _parse_bands(texts: pl.Series, point: str) -> pl.Series:
    """Band texts to numbers: ``min``, ``max``, ``top`` (max, else min) or ``mid``."""
    lower, upper = _band_exprs(pl.col("t"))
    if point == "min":
        value = lower
    elif point == "max":
        value = upper
    elif point == "top":
        value = pl.coalesce(upper, lower)
    else:
        value = pl.when(upper.is_null()).then(lower).otherwise((lower + upper) // 2)
    return texts.to_frame("t").select(value.alias("v")).to_series()


def _band(expr: pl.Expr, point: str) -> pl.Expr:
    """Map a column of band texts to numbers, parsing each distinct text once per run.

    Each batch is mapped with ``replace_strict`` from a cache of texts already parsed;
    only texts not seen before go through the regexes (which cost a fixed query-planning
    overhead per call, far more than the lookup).
    """
    cache: dict[str, int | None] = {}

    def convert(batch: pl.Series) -> pl.Series:
        distinct = batch.drop_nulls().unique()
        if distinct.len() > _BAND_CACHE_LIMIT:
            return _parse_bands(batch.cast(pl.String), point)
        keys = distinct.cast(pl.String).to_list()
        new = [k for k in keys if k not in cache]
        if new:
            if len(cache) + len(new) > _BAND_CACHE_LIMIT:
                return _parse_bands(batch.cast(pl.String), point)
            parsed = _parse_bands(pl.Series(new, dtype=pl.String), point)
            cache.update(zip(new, parsed.to_list(), strict=True))
        return batch.replace_strict(
            {k: cache[k] for k in keys}, default=None, return_dtype=pl.Int64
        )

    return expr.map_batches(convert, return_dtype=pl.Int64(), is_elementwise=True)


def band_bounds(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Parse an employee-count band into (lower, upper) Int64 bounds; upper null if open.

    Understands the vendors' vocabularies: ``51-200`` (PDL, LinkedIn), ``10001+``,
    ``501 - 1,000`` (ZoomInfo), ``10,001+ employees``, ``c_00051_00200`` and
    ``c_10001_max`` (Crunchbase's API enum), ``5k-10k``, ``over 500``, ``under 10``,
    ``self-employed`` and a plain number. Anything else, or a band whose upper bound is
    below its lower one, gives (null, null).
    """
    return _band(expr, "min"), _band(expr, "max")


def band(expr: pl.Expr, options: Mapping[str, Any]) -> pl.Expr:
    """An employee band as one number: its lower bound, midpoint or upper bound.

    An open band (``10001+``) has no upper bound, so its midpoint and upper bound fall
    back to the lower bound: ``10001+`` is at least 10001.
    """
    point = options.get("point") or "min"
    return _band(expr, "top" if point == "max" else point)


# --- countries ----------------------------------------------------------------------------

# English names in everyday use that ISO 3166 (and so pycountry) spells differently or
# not at all. Only names are listed here; every code and official name comes from
# pycountry. XK (Kosovo) is the user-assigned code vendors use; ISO has none.
COUNTRY_ALIASES: Mapping[str, str] = {
    "UK": "GB",
    "U.K.": "GB",
    "Great Britain": "GB",
    "Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "Northern Ireland": "GB",
    "England and Wales": "GB",
    "USA": "US",
    "U.S.": "US",
    "U.S.A.": "US",
    "America": "US",
    "Russia": "RU",
    "South Korea": "KR",
    "Republic of Korea": "KR",
    "North Korea": "KP",
    "Syria": "SY",
    "Laos": "LA",
    "Vietnam": "VN",
    "Macedonia": "MK",
    "Ivory Coast": "CI",
    "Turkey": "TR",
    "Holland": "NL",
    "Vatican": "VA",
    "Vatican City": "VA",
    "Brunei": "BN",
    "Cape Verde": "CV",
    "Swaziland": "SZ",
    "Burma": "MM",
    "East Timor": "TL",
    "Macau": "MO",
    "UAE": "AE",
    "DR Congo": "CD",
    "DRC": "CD",
    "Democratic Republic of the Congo": "CD",
    "Congo-Kinshasa": "CD",
    "Republic of the Congo": "CG",
    "Congo-Brazzaville": "CG",
    "Kosovo": "XK",
    "Czech Republic": "CZ",
    "Bolivia": "BO",
    "Iran": "IR",
    "Tanzania": "TZ",
    "Venezuela": "VE",
    "Moldova": "MD",
    "Palestine": "PS",
    "Micronesia": "FM",
    "Taiwan": "TW",
}


def _key(expr: pl.Expr) -> pl.Expr:
    """A lookup key: no accents, case or punctuation, so ``Côte d'Ivoire`` = ``cote d ivoire``."""
    return (
        expr.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
        .str.replace(r"^the ", "")
    )


def _keyed(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Map each name's key to its value; later pairs win. Keys come from ``_key`` itself."""
    if not pairs:
        return {}
    names = [name for name, _ in pairs]
    folded = [unicodedata.normalize("NFKD", n).encode("ascii", "ignore").decode() for n in names]
    keys = pl.Series(names + folded, dtype=pl.String).to_frame("n").select(_key(pl.col("n")))
    values = [v for _, v in pairs] * 2
    out: dict[str, str] = {}
    for key, value in zip(keys.to_series().to_list(), values, strict=True):
        if key:
            out[key] = value
    return out


@functools.cache
def _country_table() -> dict[str, str]:
    """Every spelling pycountry knows (codes, names, official and common names), plus
    each name's part before a comma or bracket where that is unambiguous
    (``Korea, Republic of`` gives nothing, ``Bolivia, Plurinational State of`` gives
    ``Bolivia``), plus ``COUNTRY_ALIASES``."""
    exact: list[tuple[str, str]] = []
    short: dict[str, set[str]] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        names = [getattr(country, a, None) for a in ("name", "official_name", "common_name")]
        for name in [country.alpha_2, country.alpha_3, *names]:
            if name:
                exact.append((name, code))
        for name in names:
            if name and ("," in name or "(" in name):
                head = name.split(",")[0].split("(")[0].strip()
                short.setdefault(head, set()).add(code)
    derived = [(head, codes.pop()) for head, codes in short.items() if len(codes) == 1]
    # Exact ISO spellings go last so an alias never overrides them.
    return _keyed(derived + list(COUNTRY_ALIASES.items()) + exact)


def country_lookup(aliases: Mapping[str, str] | None = None) -> dict[str, str]:
    """The key -> ISO 3166 alpha-2 table, with the source file's own aliases on top."""
    table = dict(_country_table())
    if aliases:
        table.update(_keyed([(k, v.strip().upper()) for k, v in aliases.items()]))
    return table


def country(expr: pl.Expr, options: Mapping[str, Any]) -> pl.Expr:
    """Country names, ISO 3166 alpha-3 or alpha-2 codes, in any case, to alpha-2.

    A country column has a few hundred distinct spellings among millions of rows, so each
    batch's distinct values are looked up once and the batch mapped through them.
    """
    table = country_lookup(options.get("aliases"))
    lookup = _key(pl.col("v")).replace_strict(table, default=None, return_dtype=pl.String)

    def convert(batch: pl.Series) -> pl.Series:
        batch = batch.cast(pl.String)
        distinct = batch.drop_nulls().unique()
        codes = distinct.to_frame("v").select(lookup).to_series()
        return batch.replace_strict(distinct, codes, default=None, return_dtype=pl.String)

    return expr.map_batches(convert, return_dtype=pl.String(), is_elementwise=True)


def country_code(value: str) -> str | None:
    """One country name or code to ISO 3166 alpha-2 (``"United States"`` -> ``"US"``),
    as ``country`` reads a column; None when it is not a country."""
    found = pl.select(country(pl.lit(value, pl.String), {})).item()
    return found if isinstance(found, str) else None


# --- funding stages -----------------------------------------------------------------------

# Crunchbase's investment types (also People Data Labs' canonical funding rounds) with the
# labels Crunchbase shows for them, plus the stages companies tables carry. Where the
# project's own data already has a word for a stage ("Debt", "Series E+"), that word is
# the label, so rules written against the sample data keep matching.
FUNDING_STAGES: Mapping[str, str] = {
    "pre_seed": "Pre-Seed",
    "seed": "Seed",
    "angel": "Angel",
    "venture": "Venture",
    "series_unknown": "Series Unknown",
    "convertible_note": "Convertible Note",
    "corporate_round": "Corporate Round",
    "debt_financing": "Debt",
    "equity_crowdfunding": "Equity Crowdfunding",
    "product_crowdfunding": "Product Crowdfunding",
    "grant": "Grant",
    "initial_coin_offering": "Initial Coin Offering",
    "non_equity_assistance": "Non-equity Assistance",
    "post_ipo_debt": "Post-IPO Debt",
    "post_ipo_equity": "Post-IPO Equity",
    "post_ipo_secondary": "Post-IPO Secondary",
    "private_equity": "Private Equity",
    "secondary_market": "Secondary Market",
    "undisclosed": "Undisclosed",
    "funding_round": "Funding Round",
    "ipo": "IPO",
    "public": "Public",
    "acquired": "Acquired",
    "bootstrapped": "Bootstrapped",
    # Other spellings seen in exports.
    "preseed": "Pre-Seed",
    "seed round": "Seed",
    "angel round": "Angel",
    "venture round": "Venture",
    "venture series unknown": "Series Unknown",
    "debt financing": "Debt",
    "initial public offering": "IPO",
    "ico": "Initial Coin Offering",
    "pe": "Private Equity",
}


@functools.cache
def _funding_table() -> dict[str, str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    pairs = list(FUNDING_STAGES.items())
    pairs += [(label, label) for label in FUNDING_STAGES.values()]
    pairs += [(f"series {c}", f"Series {c.upper()}") for c in letters]
    return _keyed(pairs)


def funding_stage(expr: pl.Expr, options: Mapping[str, Any]) -> pl.Expr:
    """``series_b``, ``Series B``, ``B``, ``Round B``, ``Series B1`` to ``Series B``; Crunchbase
    codes and labels to one vocabulary (``Seed``, ``Pre-Seed``, ``Debt``, ...). An open
    bucket keeps its plus: ``Series E+`` stays ``Series E+``."""
    table = dict(_funding_table())
    if options.get("aliases"):
        table.update(_keyed(list(options["aliases"].items())))
    series = r"^(?:series|round|venture series)?\s*([a-z])(?:\s*\d+)?$"
    label = (
        _key(expr)
        .str.replace(series, "series ${1}")
        .replace_strict(table, default=None, return_dtype=pl.String)
    )
    plus = expr.str.contains(r"(?i)^\s*(?:series|round)?\s*[a-z]\s*\+\s*$")
    return pl.when(plus & label.str.starts_with("Series ")).then(label + "+").otherwise(label)


# --- the rest -----------------------------------------------------------------------------


def split(expr: pl.Expr, options: Mapping[str, Any]) -> pl.Expr:
    """``"a, b,c"`` to ``["a", "b", "c"]``: items stripped, empty items dropped.

    The text is split on ``separator`` before this runs (see ``as_list``); a list column
    arrives as it is.
    """
    return _tidy_list(expr, lowercase=bool(options.get("lowercase")))


def _tidy_list(items: pl.Expr, *, lowercase: bool = False) -> pl.Expr:
    element = pl.element().cast(pl.String).str.strip_chars()
    if lowercase:
        element = element.str.to_lowercase()
    return items.list.eval(element).list.eval(pl.element().filter(pl.element().str.len_chars() > 0))


def domain(expr: pl.Expr, options: Mapping[str, Any]) -> pl.Expr:
    """A URL or domain to a bare domain (``listbuilder.inputs.domains.domain_expr``); anything
    that does not then look like a domain (``n/a``, ``localhost``) is a bad value."""
    return expr.map_batches(_domain_batch, return_dtype=pl.String(), is_elementwise=True)


def _full_domain(values: pl.Series) -> pl.Series:
    host = domain_expr(pl.col("v"))
    found = pl.when(host.str.contains(_DOMAIN)).then(host).otherwise(None)
    return values.to_frame("v").select(found).to_series()


def _domain_batch(values: pl.Series) -> pl.Series:
    """``domain`` for one batch: a column of clean domains (``acme.com``) is checked
    cheaply and returned as it is; only the other values, each once, are fully parsed.
    A file already in the canonical schema then costs little more than reading it."""
    values = values.cast(pl.String)
    done = values.to_frame("v").select(is_own_domain_expr(pl.col("v"))).to_series()
    todo = values.filter(~done.fill_null(True)).unique()
    if todo.is_empty():
        return values
    return values.replace(todo, _full_domain(todo))


def host(expr: pl.Expr, options: Mapping[str, Any]) -> pl.Expr:
    """A URL, e-mail address or domain to its lower-case host name
    (``listbuilder.inputs.domains.host_expr``): ``https://www.Acme.com/about`` gives
    ``acme.com``, ``shop.acme.co.uk`` stays as it is. Unlike ``domain`` it keeps
    subdomains and shared domains; what is no host name (``n/a``, ``Acme Inc``) is a bad
    value."""
    return expr.map_batches(_host_batch, return_dtype=pl.String(), is_elementwise=True)


# A host name as ``host_expr`` leaves it: lower case, no scheme, path or ``www.``.
_BARE_HOST = r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)+$"


def _host_batch(values: pl.Series) -> pl.Series:
    """``host`` for one batch: bare host names are returned as they are; only the other
    values, each once, go through the full parse."""
    values = values.cast(pl.String)
    done = values.str.contains(_BARE_HOST) & ~values.str.starts_with("www")
    todo = values.filter(~done.fill_null(True)).unique()
    if todo.is_empty():
        return values
    hosts = todo.to_frame("v").select(host_expr(pl.col("v"))).to_series()
    return values.replace(todo, hosts)


def date(expr: pl.Expr, options: Mapping[str, Any]) -> pl.Expr:
    """A date: with ``format`` (strftime, e.g. ``%d/%m/%Y``), else ISO ``YYYY-MM-DD``
    (a timestamp's date part is taken: ``2024-05-01T10:00:00Z`` is 2024-05-01)."""
    fmt = options.get("format")
    if fmt:
        return expr.str.to_date(fmt, strict=False)
    return expr.str.extract(r"^(\d{4}-\d{2}-\d{2})", 1).str.to_date("%Y-%m-%d", strict=False)


def year(expr: pl.Expr, options: Mapping[str, Any]) -> pl.Expr:
    """The first four-digit year in a value: ``2015``, ``2015-03-01``, ``29/06/2011``."""
    return expr.str.extract(r"(?:^|\D)(1\d{3}|2\d{3})(?:\D|$)", 1).cast(pl.Int64, strict=False)


def number(expr: pl.Expr, options: Mapping[str, Any]) -> pl.Expr:
    """A number written for people: ``$1,200,000``, ``1.2M``, ``5k``, ``250``."""
    text = expr.str.to_lowercase().str.replace_all(r"[\s,_$€£¥]|usd|eur|gbp", "")
    pattern = r"^([+-]?\d+(?:\.\d+)?)(k|m|mm|bn|b)?$"
    value = text.str.extract(pattern, 1).cast(pl.Float64, strict=False)
    scale = (
        text.str.extract(pattern, 2)
        .replace_strict(
            {"k": 1e3, "m": 1e6, "mm": 1e6, "b": 1e9, "bn": 1e9},
            default=1.0,
            return_dtype=pl.Float64,
        )
        .fill_null(1.0)
    )
    return value * scale


TRUE_VALUES = ("true", "t", "yes", "y", "1")
FALSE_VALUES = ("false", "f", "no", "n", "0")


def boolean(expr: pl.Expr, options: Mapping[str, Any]) -> pl.Expr:
    """``true``/``false``, ``yes``/``no``, ``1``/``0`` (any case) to a boolean."""
    table = {v.lower(): True for v in options.get("true_values") or TRUE_VALUES}
    table.update({v.lower(): False for v in options.get("false_values") or FALSE_VALUES})
    return expr.str.to_lowercase().replace_strict(table, default=None, return_dtype=pl.Boolean)


def value_map(expr: pl.Expr, options: Mapping[str, Any]) -> pl.Expr:
    """Map vendor values to yours (case-insensitive): ``values = { "Customer - Direct" =
    "customer" }``; unmapped values become ``default`` if given, else bad values. A missing
    value stays missing."""
    table = {k.strip().lower(): v for k, v in options["values"].items()}
    default = options.get("default")
    mapped = expr.str.to_lowercase().replace_strict(
        table,
        default=pl.lit(default, pl.String) if default is not None else None,
        return_dtype=pl.String,
    )
    return pl.when(expr.is_not_null()).then(mapped)


def first(expr: pl.Expr, options: Mapping[str, Any]) -> pl.Expr:
    """The first item of a list column or of a delimited text (``separator``)."""
    return _tidy_list(expr).list.first()


def lower(expr: pl.Expr, options: Mapping[str, Any]) -> pl.Expr:
    """Lower case."""
    return expr.str.to_lowercase()


def upper(expr: pl.Expr, options: Mapping[str, Any]) -> pl.Expr:
    """Upper case."""
    return expr.str.to_uppercase()


_TABLE_OF_STRINGS = Option((dict,), "a table of strings")
_LIST_OF_STRINGS = Option((list,), "a list of strings")
_SEPARATOR = Option((str,), "a separator string", default=",")

NORMALISERS: Mapping[str, Normaliser] = {
    n.name: n
    for n in (
        Normaliser(
            "band",
            band,
            pl.Int64(),
            "employee size band (51-200, 10001+, 501 - 1,000) to a number; also adds "
            "<column>_min and <column>_max",
            {"point": Option((str,), "min, mid or max", default="min", choices=BAND_POINTS)},
        ),
        Normaliser(
            "country",
            country,
            pl.String(),
            "country name, ISO alpha-3 or alpha-2 code to ISO 3166 alpha-2",
            {"aliases": _TABLE_OF_STRINGS},
        ),
        Normaliser(
            "funding_stage",
            funding_stage,
            pl.String(),
            "funding stage (series_b, Series B, B) to one vocabulary (Series B)",
            {"aliases": _TABLE_OF_STRINGS},
        ),
        Normaliser(
            "split",
            split,
            pl.List(pl.String()),
            "delimited text (a,b;c) to a list",
            {"separator": _SEPARATOR, "lowercase": Option((bool,), "true or false", False)},
            fallible=False,
            takes_list=True,
        ),
        Normaliser("domain", domain, pl.String(), "URL or domain to a bare domain"),
        Normaliser("host", host, pl.String(), "URL or domain to its host name"),
        Normaliser(
            "date",
            date,
            pl.Date(),
            "date (ISO, or with format = strftime pattern)",
            {"format": Option((str,), "a strftime pattern such as %d/%m/%Y")},
        ),
        Normaliser("year", year, pl.Int64(), "the year in a date or number"),
        Normaliser("number", number, pl.Float64(), "number written for people ($1.2M)"),
        Normaliser(
            "bool",
            boolean,
            pl.Boolean(),
            "true/false, yes/no, 1/0 to a boolean",
            {"true_values": _LIST_OF_STRINGS, "false_values": _LIST_OF_STRINGS},
        ),
        Normaliser(
            "map",
            value_map,
            pl.String(),
            "map values (case-insensitive), e.g. CRM types to statuses",
            {
                "values": Option((dict,), "a table of strings", required=True),
                "default": Option((str,), "a string"),
            },
        ),
        Normaliser(
            "first",
            first,
            pl.String(),
            "first item of a list, or of delimited text",
            {"separator": _SEPARATOR},
            fallible=False,
            takes_list=True,
        ),
        Normaliser("lower", lower, pl.String(), "lower case", fallible=False),
        Normaliser("upper", upper, pl.String(), "upper case", fallible=False),
    )
}


def as_list(expr: pl.Expr, separator: str) -> pl.Expr:
    """A text column as a list column, split on ``separator`` (for ``split``/``first``)."""
    return expr.str.split(separator)
