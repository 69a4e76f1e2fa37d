"""Company names as polars expressions, normalised for comparison.

Both sides of every comparison (the company data and the CRM) go through the same
expressions, so "ACME, Inc." and "Acme Incorporated" meet as ``acme``. Everything is
vectorised: legal forms, abbreviations and generic words are regex alternations applied
by polars, never Python per row.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import polars as pl
from cleanco.termdata import terms_by_country, terms_by_type
from rapidfuzz import process
from rapidfuzz.distance import OSA


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

# Forms written in front of the name: "PT Bank Central Asia", "OOO Romashka",
# "Kabushiki Kaisha Toshiba".
LEADING_FORMS: tuple[str, ...] = (
    *_words("the pt ooo oao zao pao tov uab"),
    "kabushiki kaisha",
    "yugen kaisha",
    "godo kaisha",
)

# cleanco's list of legal forms by type and country (maintained, MIT) is taken whole, less
# the terms that are also ordinary words or places at the end of a company name ("UK",
# "Private"): stripping those would make "Acme UK" the same company as "Acme".
NOT_LEGAL_FORMS: frozenset[str] = frozenset(
    [
        *_words("uk ok at et private unlimited sem etat ent sogepa tapui eg ps ei pp sp"),
        "suc de descendants",
    ]
)

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
    "und": "and",
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


# British and American spellings of words common in company names, one spelling kept.
NATIONAL_SPELLINGS: dict[str, str] = {
    "organisation": "organization",
    "organisations": "organizations",
    "theatre": "theater",
    "labour": "labor",
    "colour": "color",
    "harbour": "harbor",
    "defence": "defense",
    "programme": "program",
    "jewellery": "jewelry",
    "aluminium": "aluminum",
    "tyre": "tire",
    "tyres": "tires",
    "favour": "favor",
    "neighbour": "neighbor",
    "honour": "honor",
    "metre": "meter",
    "catalogue": "catalog",
    "licence": "license",
    "analyse": "analyze",
    "analysers": "analyzers",
}

# Legal and generic words long enough that one or two typos still identify them
# ("Corporaton", "Hodlings", "Soultions"): a word of TYPO_MIN_LENGTH letters or more this
# close to one of them is read as it.
TYPO_MIN_LENGTH = 7
TYPO_WORDS: tuple[str, ...] = tuple(
    sorted(
        {
            *_words(
                """corporation incorporated company limited holdings holding solutions
                technologies international services enterprises industries worldwide
                consulting associates ventures management partners systems
                manufacturing laboratories aktiengesellschaft aktiebolag association
                engineering department university brothers national group"""
            )
        }
    )
)


def _typo_map(words: Sequence[str]) -> dict[str, str]:
    """Each word within one typo (7-8 letters) or two (9+) of a ``TYPO_WORDS`` word."""
    vocab = [w for w in TYPO_WORDS if len(w) >= TYPO_MIN_LENGTH]
    candidates = [w for w in words if len(w) >= TYPO_MIN_LENGTH and w not in vocab]
    if not candidates:
        return {}
    dist = process.cdist(
        candidates, vocab, scorer=OSA.distance, score_cutoff=2, dtype=np.int32, workers=-1
    )
    best = dist.argmin(axis=1)
    out = {}
    for i, word in enumerate(candidates):
        d = int(dist[i, best[i]])
        if d <= (1 if len(word) <= 8 else 2):
            out[word] = vocab[best[i]]
    return out


def _fix_typos(values: pl.Series) -> pl.Series:
    """Long words one or two typos from a legal or generic word, respelled as it.

    Vectorised: the distinct long words of the whole batch are compared with the
    vocabulary once (rapidfuzz), then replaced by one Aho-Corasick pass.
    """
    words = values.str.split(" ").explode().drop_nulls().unique()
    words = words.filter(words.str.len_chars() >= TYPO_MIN_LENGTH)
    fixes = _typo_map(words.sort().to_list())
    if not fixes:
        return values
    padded = pl.select(pl.format(" {} ", pl.lit(values)).alias("v")).to_series()
    # Two passes: neighbouring words share a space, so a pass that takes one word's
    # trailing space skips the next; the replacement pads with two spaces, so the second
    # pass finds every word the first one skipped.
    for _ in range(2):
        padded = padded.str.replace_many(
            [f" {w} " for w in fixes], [f"  {v}  " for v in fixes.values()]
        )
    return padded.str.replace_all(r"\s+", " ").str.strip_chars().alias(values.name)


# A comma written as a word of its own, so a legal form followed by a place
# ("Philips N.V., Eindhoven, NL") can still be told from one inside a name.
_COMMA = "\u2063"


# Marks, before folding loses case, where a legal form may be glued to the end of a word:
# an upper-case run after a lower-case letter ("Bechtle|AG") or a capitalised word of four
# letters or more ("LY|Corporation", "ASML|Holding").
_CASE_BREAK = "\u2060"
# Legal forms no word ends with: split off even without a change of case ("Pearsonplc").
_GLUED_ANYHOW = ("plc", "gmbh", "llc", "ltd")
# Long forms that may be glued after a change of case; short ones come from LEGAL_FORMS.
_GLUED_LONG = ("corporation", "incorporated", "limited", "holding", "holdings")


@functools.cache
def _glued_tails() -> str:
    """The legal forms that may be split off where the case changes. "Co" is not one of
    them ("PepsiCo"), nor is a generic word ("CompuGroup"): both are parts of brands."""
    short = {w for w in LEGAL_FORMS if " " not in w and len(w) <= 4}
    return _alternation(sorted((short - {"co", "cos", "na", "the"}) | set(_GLUED_LONG)))


def _split_glued(column: str | pl.Expr) -> pl.Expr:
    """The name folded (``fold_expr``), with a legal form glued to the end of a word split
    off: "BechtleAG", "LYCorporation", "ASMLHolding", "GSKplc" and "Pearsonplc" read as
    "bechtle ag", "ly corporation", "asml holding", "gsk plc", "pearson plc"; "PepsiCo",
    "Zinc" and "Kebab" stay whole.
    """
    marked = (
        _col(column)
        .cast(pl.String)
        .str.replace_all(r"(\p{Ll})(\p{Lu}{2,4}\b)", f"${{1}}{_CASE_BREAK}${{2}}")
        .str.replace_all(r"(\p{L})(\p{Lu}\p{Ll}{3,}\b)", f"${{1}}{_CASE_BREAK}${{2}}")
    )
    glued = _alternation(_GLUED_ANYHOW)
    return (
        fold_expr(marked)
        .str.replace_all(rf"{_CASE_BREAK}((?:{_glued_tails()})\b)", " ${1}")
        .str.replace_all(_CASE_BREAK, "", literal=True)
        .str.replace_all(rf"(\p{{L}}{{3}})((?:{glued})\b)", "${1} ${2}")
    )


def tokens_expr(column: str | pl.Expr) -> pl.Expr:
    """A name folded into words, before any word is dropped.

    Folds Unicode, case and punctuation; ``&`` becomes ``and``; a web suffix on a name
    goes; single letters written apart ("N. V.", "B V", "A.B.C.") join into one word;
    abbreviations, British spellings and long legal or generic words with a typo get one
    spelling. A comma is kept as the word ``_COMMA``.
    """
    text = (
        _split_glued(column)
        .str.replace_all(r"(\p{L})\.(?:com|net|org|io|ai)\b", "${1}")
        .str.replace_all("&", " and ")
        .str.replace_all(",", f" {_COMMA} ")
        # Dots, slashes and apostrophes inside a word: "s.p.a." -> "spa", "a/s" -> "as",
        # "macy's" -> "macys". Twice, as each pass can only join every other letter.
        .str.replace_all(r"(\p{L})[./'\x{2019}](\p{L})", "${1}${2}")
        .str.replace_all(r"(\p{L})[./'\x{2019}](\p{L})", "${1}${2}")
        .str.replace_all(rf"[^\p{{L}}\p{{N}}{_COMMA}]+", "  ")
    )
    # Words are now separated by two spaces, so each word's pattern (with one space on
    # each side) can match next to another's. Single letters are marked, then runs of
    # them joined: "n  v" -> "nv", "a  b  c" -> "abc".
    text = pl.format("  {}  ", text).str.replace_all(r" (\p{L}) ", " ${1}# ")
    for _ in range(2):
        text = text.str.replace_all(r"#\s+(\p{L}+)#", "${1}#")
    text = text.str.replace_all("#", "", literal=True)
    text = pl.format(" {} ", text).str.replace_all(r"\s+", "  ")
    spellings = {**ABBREVIATIONS, **NATIONAL_SPELLINGS}
    text = text.str.replace_many(
        [f" {short} " for short in spellings], [f" {long} " for long in spellings.values()]
    )
    text = text.str.replace_all(r"\s+", " ").str.strip_chars()
    return text.map_batches(_fix_typos, return_dtype=pl.String, is_elementwise=True)


def name_expr(column: str | pl.Expr) -> pl.Expr:
    """A company name normalised for comparison; null when nothing is left.

    ``tokens_expr`` first; then a leading "The" or legal form ("Kabushiki Kaisha") goes,
    and so do legal forms at the end (Inc, Ltd, GmbH, S.A., "N. V.", Pty Ltd, ... from
    cleanco's maintained list and ``LEGAL_FORMS``), also when a place follows them after
    a comma (", DELFT, NL"); unless nothing would be left. Idempotent: normalising a
    normalised name changes nothing.
    """
    text = tokens_expr(column)
    leading = _alternation(LEADING_FORMS)
    trailing = _alternation(legal_forms())
    # A legal form, then a comma and at most five words of place: "nv , delft , nl".
    # One chain, each step used once: an expression used twice would be computed twice,
    # the typo pass of ``tokens_expr`` with it.
    return (
        text.str.replace(rf"^(.*?\S)(?: (?:{trailing}))+ {_COMMA}(?: [^ ]+){{1,5}}$", "${1}")
        .str.replace_all(rf" ?{_COMMA}", "")
        .str.strip_chars()
        .str.replace(rf"^(?:(?:{leading}) )+(\S)", "${1}")
        .str.replace(rf"^(.*?\S)(?: (?:{trailing}))+$", "${1}")
        .replace("", None)
    )


@functools.cache
def legal_forms() -> tuple[str, ...]:
    """``LEGAL_FORMS`` with cleanco's terms, each written as ``tokens_expr`` leaves it."""
    raw = {t for terms in terms_by_type.values() for t in terms}
    raw |= {t for terms in terms_by_country.values() for t in terms}
    frame = pl.DataFrame({"v": sorted(raw)}, schema={"v": pl.String})
    folded = frame.select(tokens_expr("v")).to_series().drop_nulls().to_list()
    keep = {f for f in folded if f and f not in NOT_LEGAL_FORMS and _COMMA not in f}
    return tuple(sorted(keep | set(LEGAL_FORMS)))


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
