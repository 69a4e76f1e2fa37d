"""CSV that importers parse exactly and spreadsheets never run: RFC 4180 and no formulas.

Exports are built from scraped company data, and their files are opened in spreadsheets
as often as they are uploaded. Two things keep them safe:

- ``neutralise``: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab, a
  carriage return or a NUL (OWASP ASVS 5.3.10) is prefixed with ``'``, so a spreadsheet
  shows it as text instead of evaluating it (OWASP "CSV Injection"). So is one where such
  a character, or a full-width or small form of one (U+FF1D, U+FE62), follows leading
  spaces, non-breaking spaces, control or invisible formatting characters: spreadsheets
  skip some of those, and fold some of these forms, before they look for a formula.
- ``csv_records``/``encode_csv``: RFC 4180 written by hand as polars expressions rather
  than by a CSV writer, so that the byte size of every record is known before the file is
  written (files are split at byte limits exactly) and the bytes do not depend on a
  writer's defaults: UTF-8 without a byte order mark (it would become part of the first
  header), CRLF line ends, a field quoted only when it holds a comma, a double quote, a
  CR or an LF, with quotes doubled inside.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

# OWASP ASVS's list: the four formula starters, and tab, carriage return and NUL.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\x00")
# Every other character whose compatibility form (NFKC) is a formula starter: full-width
# and small forms, superscript and subscript signs. Checked against unicodedata by a test.
FORMULA_LOOKALIKES = (
    "\u207a\u207c\u208a\u208c\ufb29\ufe62\ufe63\ufe66\ufe6b\uff0b\uff0d\uff1d\uff20"
)
CRLF = "\r\n"
_NEEDS_QUOTES = r'[,"\r\n]'
_TRIGGER = "".join(f"\\x{{{ord(c):x}}}" for c in (*FORMULA_PREFIXES, *FORMULA_LOOKALIKES))
# Anything a spreadsheet may skip before the first character it reads: white space
# (non-breaking and ideographic spaces included), control and invisible format characters.
_RISKY = rf"^[\s\p{{Cc}}\p{{Cf}}]*[{_TRIGGER}]"


def neutralise(expr: pl.Expr) -> pl.Expr:
    """Prefix ``'`` to each text value a spreadsheet would read as a formula."""
    text = expr.cast(pl.String)
    risky = text.str.contains(_RISKY)
    return pl.when(risky.fill_null(False)).then(pl.lit("'") + text).otherwise(text)


def quote(expr: pl.Expr) -> pl.Expr:
    """One RFC 4180 field: empty for null, quoted (quotes doubled) only where needed."""
    text = expr.cast(pl.String).fill_null("")
    quoted = pl.lit('"') + text.str.replace_all('"', '""', literal=True) + pl.lit('"')
    return pl.when(text.str.contains(_NEEDS_QUOTES)).then(quoted).otherwise(text)


def csv_records(df: pl.DataFrame) -> pl.Series:
    """Each row of ``df`` as one CSV record, without its line end."""
    if not df.width:
        return pl.Series("record", [""] * df.height, dtype=pl.String)
    return df.select(
        pl.concat_str([quote(pl.col(c)) for c in df.columns], separator=",").alias("record")
    ).to_series()


def header_record(headers: Sequence[str]) -> str:
    """The header row as one CSV record, without its line end."""
    return pl.select(
        pl.concat_str([quote(pl.lit(h, pl.String)) for h in headers], separator=",")
    ).item()


def record_sizes(records: pl.Series) -> pl.Series:
    """Bytes each record takes in the file, its line end included."""
    return records.str.len_bytes().cast(pl.Int64) + len(CRLF)


def encode_csv(header: str, records: pl.Series) -> bytes:
    """A whole file: the header record, then the records, each ending in CRLF."""
    body = records.str.join(CRLF).item() + CRLF if len(records) else ""
    return (header + CRLF + body).encode("utf-8")
