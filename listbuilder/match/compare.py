"""Records prepared for comparison, and pairs of them compared field by field.

``prepare`` normalises one side once (names, domains, countries, cities, the numbers in a
name); ``compare`` turns candidate pairs into one level code per field of
``listbuilder.match.linkage.FIELDS``, plus the name similarity shown in the evidence.
Everything is polars expressions or rapidfuzz over whole columns; nothing loops over rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Levenshtein

from listbuilder.inputs import (
    country,
    domain_expr,
    domain_label_expr,
    host_expr,
    registrable_domain_expr,
)
from listbuilder.match.linkage import level, null_level
from listbuilder.match.names import GENERIC_WORDS, core_name_expr, fold_expr, name_expr

WHOLE_NAME_WEIGHT = 0.3
ORDER_DIFFERS = 15.0
DESCRIPTOR_DIFFERS = 10.0
GENERIC_EXTRA = 5.0
# A domain label this short, or a generic word, says too little to excuse two domains.
DISTINCTIVE_LABEL = 4
# "One label contains the other" counts only when the shorter has this many letters.
CONTAINED_LABEL = 5


def _words(text: str) -> list[str]:
    """The words of a block of text, for long vocabularies written compactly."""
    return text.split()


# Top-level domains open to anyone; any other of three letters or more under a
# two-label domain is a brand's own (``global.bmw``), and the brand is the label.
OPEN_TLDS = frozenset(
    _words(
        """
com net org info biz edu gov mil int name pro mobi app dev io ai co online site store shop
tech xyz club global group company inc ltd llc cloud agency digital solutions services
systems consulting media network world website space live life news blog email asia africa
london berlin paris nyc tokyo eu us uk
"""
    )
)
# Ordinal and cardinal words that number an entity ("Fund Three", "Second Bank").
NUMBER_WORDS = {
    w: str(i)
    for words in (
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty",
        "first second third fourth fifth sixth seventh eighth ninth tenth",
    )
    for i, w in enumerate(words.split(), start=1)
}


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out += letters
            n -= value
    return out


ROMAN = {_roman(i): str(i) for i in range(1, 40)}

# Generic words that name a trade ("Systems", "Partners"), not connectors ("and", "of"):
# each side having one the other lacks marks two different businesses.
TRADE_WORDS = tuple(sorted(GENERIC_WORDS - {"and", "of", "the", "for"}))
CONNECTORS = ["and", "of", "the", "for"]


def prepare(frame: pl.DataFrame | pl.LazyFrame, id_column: str) -> pl.LazyFrame:
    """One side's records with everything matching compares, normalised once.

    Columns: ``idx`` (row number), ``id``, the raw ``name``/``domain``/``country``;
    ``norm`` (normalised name), ``core`` (its distinctive words), ``first``,
    ``sorted_norm``/``sorted_core``, ``trade`` (a bit per trade word), ``words``,
    ``long_core``, ``initials`` (of a name of several words) and ``initials_short`` (the
    same without "and", "of"...), ``numbers`` (the numbers in the name, digits, a final
    Roman numeral and number words, sorted); ``dom`` (registrable domain, or the host
    when its suffix is not on the Public Suffix List), ``label``, ``brand`` (the
    top-level domain when it is a brand's own), ``iso`` (country) and ``place`` (city,
    else region).

    Long because it is one lazy query, a column or two per comparable feature: split, the
    steps would pass the same frame along without adding anything to read.
    """
    lf = frame.lazy()
    schema = lf.collect_schema()

    def text(column: str) -> pl.Expr:
        if column in schema:
            return pl.col(column).cast(pl.String)
        return pl.lit(None, pl.String)

    bits = {word: 1 << i for i, word in enumerate(TRADE_WORDS)}
    words = pl.col("norm").str.split(" ")
    core_words = pl.col("core").str.split(" ")
    # A host whose suffix no list knows ("acme.corp") is still a host to compare.
    unlisted = pl.struct("domain", "_dom").map_batches(
        _unlisted_hosts, return_dtype=pl.String, is_elementwise=True
    )
    place = pl.coalesce(
        fold_expr(text("city")).str.strip_chars().replace("", None),
        fold_expr(text("region")).str.strip_chars().replace("", None),
    )
    digits = (
        pl.col("norm")
        .str.extract_all(r"\d+")
        .list.eval(pl.element().str.replace(r"^0+(\d)", "${1}"))
    )
    named_numbers = words.list.eval(
        pl.element().replace_strict(NUMBER_WORDS, default=None, return_dtype=pl.String)
    )
    roman = pl.when(words.list.len() >= 2).then(
        words.list.last().replace_strict(ROMAN, default=None, return_dtype=pl.String)
    )
    return (
        lf.select(
            id=pl.col(id_column).cast(pl.String),
            name=text("name"),
            domain=text("domain"),
            country=text("country"),
            place=place,
        )
        .with_row_index("idx")
        .with_columns(
            norm=name_expr("name"),
            _dom=domain_expr("domain"),
            iso=country(pl.col("country").str.strip_chars().replace("", None), {}),
        )
        .with_columns(
            dom=pl.coalesce("_dom", unlisted),
            # Only a listed top-level domain can be a brand's: an unlisted host's last
            # label ("acme1.corp") is anyone's.
            brand=pl.col("_dom")
            .str.extract(r"^[^.]+\.([^.]{3,})$")
            .pipe(lambda t: pl.when(~t.is_in(list(OPEN_TLDS))).then(t)),
        )
        .drop("_dom")
        .with_columns(core=core_name_expr("norm"), label=domain_label_expr("dom"))
        .with_columns(
            sorted_norm=words.list.sort().list.join(" "),
            sorted_core=core_words.list.sort().list.join(" "),
            first=core_words.list.first(),
            trade=words.list.eval(
                pl.element().replace_strict(bits, default=0, return_dtype=pl.Int64)
            )
            .list.unique()
            .list.sum(),
            words=words.list.n_unique(),
            long_core=core_words.list.eval(pl.element().str.len_chars() >= 4).list.any(),
            initials=pl.when(words.list.len() >= 2).then(
                words.list.eval(pl.element().str.slice(0, 1)).list.join("")
            ),
            initials_short=pl.when(words.list.set_difference(CONNECTORS).list.len() >= 2).then(
                words.list.set_difference(CONNECTORS)
                .list.eval(pl.element().str.slice(0, 1))
                .list.join("")
            ),
            numbers=pl.concat_list(digits, named_numbers, roman)
            .list.drop_nulls()
            .list.unique()
            .list.sort()
            .list.join(" "),
        )
    )


def _unlisted_hosts(pairs: pl.Series) -> pl.Series:
    """The host of each ``domain`` that gave no registrable ``_dom`` and whose suffix is on
    no list; null elsewhere. Only those rows are parsed again: a million URLs twice over
    would cost seconds.
    """
    frame = pairs.struct.unnest()
    todo = (frame["_dom"].is_null() & frame["domain"].is_not_null()).arg_true()
    out = pl.Series(pairs.name, [None] * len(pairs), dtype=pl.String)
    if todo.len() == 0:
        return out
    hosts = frame["domain"].gather(todo).to_frame("d").select(h=host_expr("d"))
    found = hosts.select(
        pl.when(registrable_domain_expr("h").is_null()).then(pl.col("h"))
    ).to_series()
    return out.scatter(todo, found)


def _similarity(left: pl.Series, right: pl.Series, scorer: Any) -> np.ndarray:
    """A rapidfuzz similarity (0-100) of each pair of strings; 0 where either is null."""
    scores = process.cpdist(
        left.fill_null("").to_list(),
        right.fill_null("").to_list(),
        scorer=scorer,
        workers=-1,
        dtype=np.float64,
    )
    if scorer is OSA.normalized_similarity:
        scores *= 100.0
    missing = (left.is_null() | right.is_null() | (left == "") | (right == "")).to_numpy()
    scores[missing] = 0.0
    return scores


COLUMNS = [
    "norm",
    "core",
    "first",
    "sorted_norm",
    "sorted_core",
    "trade",
    "words",
    "long_core",
    "initials",
    "initials_short",
    "numbers",
    "dom",
    "label",
    "brand",
    "iso",
    "place",
]


def _joined(pairs: pl.DataFrame, left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    return pl.concat(
        [
            pairs.select("ci", "ai"),
            left.select(COLUMNS).rename(lambda c: f"{c}_c").gather(pairs["ci"]),
            right.select(COLUMNS).rename(lambda c: f"{c}_a").gather(pairs["ai"]),
        ],
        how="horizontal",
    )


def name_similarity(both: pl.DataFrame) -> pl.DataFrame:
    """``_name`` (0-100): how alike two names are, from whole names and distinctive words.

    The better of ``0.3 * whole + 0.7 * core`` and ``core - GENERIC_EXTRA`` (when only one
    side has generic words), where *whole* is the rapidfuzz ``ratio`` of the normalised
    names and *core* the optimal-string-alignment similarity of the distinctive words,
    capped by that of their first words (so "Zentrix Labs" is not "Zentrax Labs"); each
    also on the words sorted, less ``ORDER_DIFFERS``. Names that differ only in spacing
    score 100; each side having its own trade word costs ``DESCRIPTOR_DIFFERS``. Also
    ``_set``: the token-set ratio, 100 when one name's words are all in the other's.
    """
    same = (both["norm_c"] == both["norm_a"]).fill_null(False).to_numpy()
    todo = np.flatnonzero(~same)
    rest = both[todo]
    unsorted = (
        (rest["sorted_norm_c"] != rest["norm_c"]) | (rest["sorted_norm_a"] != rest["norm_a"])
    ).to_numpy()
    shuffled = np.flatnonzero(unsorted)

    def similarity(
        column: str, scorer: Any, rows: np.ndarray, *, default: float = 100.0
    ) -> pl.Series:
        out = np.full(both.height, default)
        out[todo[rows]] = _similarity(rest[f"{column}_c"][rows], rest[f"{column}_a"][rows], scorer)
        return pl.Series(out)

    every = np.arange(rest.height)
    both = both.with_columns(
        _whole=similarity("norm", fuzz.ratio, every),
        _core=similarity("core", OSA.normalized_similarity, every),
        _first=similarity("first", OSA.normalized_similarity, every),
        _set=similarity("norm", fuzz.token_set_ratio, every),
        _whole_sorted=similarity("sorted_norm", fuzz.ratio, shuffled, default=0.0),
        _core_sorted=similarity("sorted_core", OSA.normalized_similarity, shuffled, default=0.0),
    )
    whole = pl.max_horizontal("_whole", pl.col("_whole_sorted") - ORDER_DIFFERS)
    core = pl.max_horizontal(
        pl.min_horizontal("_core", "_first"), pl.col("_core_sorted") - ORDER_DIFFERS
    )
    compact_c = pl.col("core_c").str.replace_all(" ", "", literal=True)
    compact_a = pl.col("core_a").str.replace_all(" ", "", literal=True)
    core = pl.when(compact_c == compact_a).then(100.0).otherwise(core)
    trade_c, trade_a = pl.col("trade_c"), pl.col("trade_a")
    extra_c = (trade_c & ~trade_a) != 0
    extra_a = (trade_a & ~trade_c) != 0
    generic_extra = pl.when(extra_c | extra_a).then(GENERIC_EXTRA).otherwise(0.0)
    descriptor = pl.when(extra_c & extra_a).then(DESCRIPTOR_DIFFERS).otherwise(0.0)
    score = pl.max_horizontal(
        WHOLE_NAME_WEIGHT * whole + (1 - WHOLE_NAME_WEIGHT) * core, core - generic_extra
    )
    both = both.with_columns(_name=(score - descriptor).clip(0.0, 100.0))
    # Two neighbouring letters swapped ("Pfiezr", "Pfizer") is the commonest typo, and
    # costs a short name as much as a letter that differs ("Zentrix", "Zentrax"): the
    # swap counts as close as names that differ by a space.
    near = np.flatnonzero(both["_name"].is_between(70.0, 95.0).to_numpy())
    if near.size:
        left_core, right_core = both["core_c"][near], both["core_a"][near]
        osa = _distance(left_core, right_core, OSA.distance)
        lev = _distance(left_core, right_core, Levenshtein.distance)
        swapped = near[(osa == 1) & (lev == 2)]
        name = both["_name"].to_numpy().copy()
        name[swapped] = np.maximum(name[swapped], 95.0)
        both = both.with_columns(_name=pl.Series(name))
    return both


def _distance(left: pl.Series, right: pl.Series, scorer: Any) -> np.ndarray:
    return process.cpdist(
        left.fill_null("").to_list(), right.fill_null("").to_list(), scorer=scorer, workers=-1
    )


def _levels(pairs: list[tuple[pl.Expr, str]], field: str) -> pl.Expr:
    """The first level whose condition holds, else the field's "no evidence" level."""
    out = pl.lit(null_level(field), pl.Int8)
    for cond, name in reversed(pairs):
        out = (
            pl.when(cond.fill_null(False)).then(pl.lit(level(field, name), pl.Int8)).otherwise(out)
        )
    return out


def compare(pairs: pl.DataFrame, left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    """One level code per field for each pair ``ci``/``ai`` of prepared ``left``/``right``.

    Returns ``ci``, ``ai``, a column per field of ``FIELDS``, ``sim`` (the name
    similarity, 0-1) and ``method`` (``domain``, ``name``, ``acronym`` or ``fuzzy``).

    Long because each field's levels are listed in full, in the order they are tested, so
    the table of ``docs/matching-model.md`` can be checked against one place.
    """
    both = name_similarity(_joined(pairs, left, right))
    c, a = (lambda x: pl.col(f"{x}_c")), (lambda x: pl.col(f"{x}_a"))
    # --- domain
    both_dom = c("dom").is_not_null() & a("dom").is_not_null()
    labels_agree = (
        (c("label") == a("label"))
        | (c("brand") == a("label"))
        | (c("label") == a("brand"))
        | (c("brand") == a("brand"))
    ).fill_null(False)
    shared = pl.coalesce(
        pl.when(c("label") == a("label")).then(c("label")),
        pl.when(c("brand").is_not_null() & (c("brand") == a("label"))).then(c("brand")),
        pl.when(a("brand").is_not_null() & (a("brand") == c("label"))).then(a("brand")),
        c("brand"),
    )
    distinctive = (shared.str.len_chars() >= DISTINCTIVE_LABEL) & ~shared.is_in(
        sorted(GENERIC_WORDS)
    )
    countries_agree = c("iso") == a("iso")
    shorter = pl.min_horizontal(c("label").str.len_chars(), a("label").str.len_chars())
    contains = (shorter >= CONTAINED_LABEL) & (
        c("label").str.contains(a("label"), literal=True)
        | a("label").str.contains(c("label"), literal=True)
    )
    countries_differ = c("iso").is_not_null() & a("iso").is_not_null() & (c("iso") != a("iso"))
    domain = _levels(
        [
            (c("dom") == a("dom"), "same"),
            (both_dom & labels_agree & distinctive & countries_agree, "label"),
            (both_dom & (labels_agree | contains) & ~countries_differ, "related"),
            (both_dom, "differs"),
        ],
        "domain",
    )
    # --- name
    named = c("core").is_not_null() & a("core").is_not_null()
    compact_equal = c("norm").str.replace_all(" ", "", literal=True) == a("norm").str.replace_all(
        " ", "", literal=True
    )
    c_shorter = c("words") < a("words")
    inside = (
        (pl.col("_set") == 100.0)
        & (c("words") != a("words"))
        & pl.when(c_shorter).then(c("long_core")).otherwise(a("long_core"))
    )
    one_word_c = ~c("norm").str.contains(" ", literal=True)
    one_word_a = ~a("norm").str.contains(" ", literal=True)
    acronym = (one_word_c & ((c("norm") == a("initials")) | (c("norm") == a("initials_short")))) | (
        one_word_a & ((a("norm") == c("initials")) | (a("norm") == c("initials_short")))
    )
    acronym_domain = (
        (c("initials") == a("label"))
        | (c("initials_short") == a("label"))
        | (a("initials") == c("label"))
        | (a("initials_short") == c("label"))
    )
    sim = pl.col("_name")
    name = _levels(
        [
            (named & ((c("norm") == a("norm")) | compact_equal), "exact"),
            (named & inside, "inside"),
            (named & (sim >= 95.0), "0.95"),
            (named & (sim >= 88.0), "0.88"),
            (named & acronym, "acronym"),
            (named & acronym_domain, "acronym_domain"),
            (named & (sim >= 80.0), "0.80"),
            (named & (sim >= 70.0), "0.70"),
            (named, "differs"),
        ],
        "name",
    )
    # --- numbers, country, place
    has_c, has_a = c("numbers") != "", a("numbers") != ""
    numbers = _levels(
        [
            (has_c & has_a & (c("numbers") == a("numbers")), "same"),
            (has_c & has_a, "differ"),
            (has_c | has_a, "one_side"),
        ],
        "numbers",
    )
    country_level = _levels(
        [(c("iso") == a("iso"), "same"), (countries_differ, "differs")], "country"
    )
    city = _levels(
        [
            (c("place") == a("place"), "same"),
            (c("place").is_not_null() & a("place").is_not_null(), "differs"),
        ],
        "city",
    )
    method = (
        pl.when(c("dom") == a("dom"))
        .then(pl.lit("domain"))
        .when(c("norm") == a("norm"))
        .then(pl.lit("name"))
        .when(acronym.fill_null(False) | acronym_domain.fill_null(False))
        .then(pl.lit("acronym"))
        .otherwise(pl.lit("fuzzy"))
    )
    return both.select(
        "ci",
        "ai",
        domain=domain,
        name=name,
        numbers=numbers,
        country=country_level,
        city=city,
        sim=pl.when(name == level("name", "exact")).then(1.0).otherwise(sim / 100.0),
        method=method,
    )
