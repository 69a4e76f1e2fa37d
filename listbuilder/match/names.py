"""Company names as polars expressions, normalised for comparison.

Both sides of every comparison (the company data and the CRM) go through the same
expressions, so "ACME, Inc." and "Acme Incorporated" meet as ``acme``. Everything is
vectorised: legal forms, abbreviations and generic words are regex alternations applied
by polars, never Python per row.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def _words(text: str) -> list[str]:
    """The words of a block of text, for long vocabularies written compactly."""
    return text.split()


def _col(column: str | pl.Expr) -> pl.Expr:
    return pl.col(column) if isinstance(column, str) else column


def _apply(expr: pl.Expr, values: Sequence[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"v": list(values)}, schema={"v": pl.String})
    return frame.lazy().select(expr).collect().to_series().to_list()


LEGAL_FORMS: tuple[str, ...] = (
    # multi-word forms first, so the longest spelling is the one taken
    "public limited company",
    "limited liability company",
    "limited liability partnership",
    "limited partnership",
    "aktiengesellschaft",
    "aktiebolag",
    "societe anonyme",
    "sociedad anonima",
    "societa per azioni",
    "private limited",
    "kabushiki kaisha",
    "gmbh and co kg",
    "s de rl de cv",
    "sa de cv",
    "s de rl",
    "sp z oo",
    "and company",
    "and co",
    "pty ltd",
    "pty limited",
    "pvt ltd",
    "pte ltd",
    "co ltd",
    "sdn bhd",
    # English-speaking jurisdictions
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "cos",
    "company",
    "llc",
    "llp",
    "lllp",
    "lp",
    "ltd",
    "limited",
    "plc",
    "pllc",
    "ulc",
    "na",
    "pty",
    "pvt",
    "pte",
    # German-speaking
    "gmbh",
    "mbh",
    "ag",
    "kg",
    "kgaa",
    "ohg",
    "ug",
    "ev",
    # European and Latin
    "se",
    "sa",
    "sas",
    "sasu",
    "sarl",
    "eurl",
    "sca",
    "snc",
    "spa",
    "srl",
    "srls",
    "sl",
    "slu",
    "sau",
    "bv",
    "nv",
    "vof",
    "cv",
    "ltda",
    "eireli",
    "sab",
    "sanv",
    "nvsa",
    # Nordic
    "ab",
    "publ",
    "asa",
    "as",
    "aps",
    "oy",
    "oyj",
    "hf",
    "ehf",
    # Central and eastern European
    "kft",
    "zrt",
    "nyrt",
    "sro",
    "as",
    "doo",
    "dd",
    # Asia
    "kk",
    "gk",
    "yk",
    "bhd",
    "tbk",
    # an article moved to the end: "Home Depot, The"
    "the",
)

# Forms written in front of the name: "PT Bank Central Asia", "OOO Romashka".
LEADING_FORMS: tuple[str, ...] = ("the", "pt", "ooo", "oao", "zao", "pao")

# Words too common in company names to identify one. A name made only of these never
# matches on its name ("Global Solutions Group"), and two names that share only these
# score low ("Acme Global Solutions" is not "Zenith Global Solutions").
GENERIC_WORDS: frozenset[str] = frozenset(
    _words(
        """
group groups holdings holding global solutions solution systems system technologies
international services service partners enterprises enterprise industries worldwide
consulting associates ventures management company companies corporation and of the for
groupe gruppe grupo gruppo
"""
    )
)


# Abbreviations written either way in company names, each mapped to one spelling.
ABBREVIATIONS: dict[str, str] = {
    "intl": "international",
    "natl": "national",
    "mfg": "manufacturing",
    "mgmt": "management",
    "svc": "services",
    "svcs": "services",
    "service": "services",
    "sys": "systems",
    "system": "systems",
    "tech": "technologies",
    "technology": "technologies",
    "bros": "brothers",
    "assoc": "associates",
    "assn": "association",
    "dept": "department",
    "ctr": "center",
    "centre": "center",
    "univ": "university",
    "grp": "group",
    "hldgs": "holdings",
    "hldg": "holdings",
    "holding": "holdings",
    "lab": "laboratories",
    "labs": "laboratories",
    "laboratory": "laboratories",
    "solution": "solutions",
    "enterprise": "enterprises",
    "engg": "engineering",
}

# Letters that Unicode decomposition leaves alone.
_LETTERS: dict[str, str] = {
    "ß": "ss",
    "æ": "ae",
    "ø": "o",
    "œ": "oe",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "\u0131": "i",  # dotless i
    "ħ": "h",
}


# --- names ---------------------------------------------------------------------------


def fold_expr(column: str | pl.Expr) -> pl.Expr:
    """Lower case without accents or compatibility forms.

    ``Société`` and its full-width spelling both become ``societe``; letters that Unicode
    does not decompose are spelled out (``ß`` -> ``ss``, ``ø`` -> ``o``).
    """
    return (
        _col(column)
        .cast(pl.String)
        # Decompose before lower-casing: compatibility forms such as the mathematical
        # capitals only become ordinary capitals here.
        .str.normalize("NFKD")
        .str.to_lowercase()
        .str.replace_all(r"\p{M}+", "")
        .str.replace_many(list(_LETTERS), list(_LETTERS.values()))
    )


def _alternation(words: Sequence[str]) -> str:
    return "|".join(sorted(set(words), key=lambda w: (-len(w), w)))


def name_expr(column: str | pl.Expr) -> pl.Expr:
    """A company name normalised for comparison; null when nothing is left.

    Folds Unicode (accents, full-width forms), case and punctuation; ``&`` becomes
    ``and``; a web suffix on a name goes (``Salesforce.com`` -> ``salesforce``);
    abbreviations get one spelling (``Intl`` -> ``international``); a leading "The" and
    legal forms at the end (Inc, Ltd, GmbH, S.A., Pty Ltd, ...) go, unless nothing would
    be left. Idempotent: normalising a normalised name changes nothing.
    """
    text = (
        fold_expr(column)
        .str.replace_all(r"(\p{L})\.(?:com|net|org|io|ai)\b", "${1}")
        .str.replace_all("&", " and ")
        # Dots, slashes and apostrophes inside a word: "s.p.a." -> "spa", "a/s" -> "as",
        # "macy's" -> "macys". Twice, as each pass can only join every other letter.
        .str.replace_all(r"(\p{L})[./'\x{2019}](\p{L})", "${1}${2}")
        .str.replace_all(r"(\p{L})[./'\x{2019}](\p{L})", "${1}${2}")
        .str.replace_all(r"[^\p{L}\p{N}]+", "  ")
    )
    # Words are now separated by two spaces, so each word's pattern (with one space on
    # each side) can match next to another's.
    text = pl.format("  {}  ", text).str.replace_many(
        [f" {short} " for short in ABBREVIATIONS], [f" {long} " for long in ABBREVIATIONS.values()]
    )
    text = text.str.replace_all(r"\s+", " ").str.strip_chars()
    leading = _alternation(LEADING_FORMS)
    trailing = _alternation(LEGAL_FORMS)
    text = text.str.replace(rf"^(?:(?:{leading}) )+(\S)", "${1}").str.replace(
        rf"^(.*?\S)(?: (?:{trailing}))+$", "${1}"
    )
    return pl.when(text.str.len_chars() > 0).then(text)


def core_name_expr(normalised: str | pl.Expr) -> pl.Expr:
    """The distinctive part of a normalised name: its generic words removed; null if none."""
    words = _alternation(sorted(GENERIC_WORDS))
    core = (
        pl.format(" {} ", _col(normalised))
        .str.replace_all(rf" (?:{words}) ", "  ")
        .str.replace_all(rf" (?:{words}) ", "  ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    return pl.when(core.str.len_chars() > 0).then(core)


# --- plain functions -------------------------------------------------------------------


def normalise_names(values: Sequence[str | None]) -> list[str | None]:
    """``name_expr`` for a list of values: each one normalised, or None."""
    return _apply(name_expr("v"), values)


def normalise_name(value: str | None) -> str | None:
    """One company name normalised (see ``name_expr``), or None."""
    return normalise_names([value])[0]
