"""What changed since the previous run, per segment, and why.

A run directory keeps ``accounts.parquet``: every account that qualified for a segment,
with its status (``listed``, ``suppressed``, ``not_listed``), tier, rank, score and the
labels of the criteria that fired. Comparing two of them classifies each change, and the
scoring columns of the current run (or a re-evaluation of a few companies) say why:
which criteria newly fired or stopped firing, a new CRM status, a threshold missed, a cap.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from listbuilder.errors import DataError
from listbuilder.files import read_run_summary
from listbuilder.rules import Rules, Segment, exclude_col, include_col

CHANGE_KINDS = ("added", "dropped", "tier_up", "tier_down", "moved_segment", "held")
ACCOUNT_COLUMNS = {
    "company_id": pl.String,
    "name": pl.String,
    "segment": pl.String,
    "status": pl.String,
    "tier": pl.String,
    "rank": pl.Int64,
    "score": pl.Int64,
    "fired": pl.List(pl.String),
    "reasons": pl.String,
    "held": pl.Boolean,
    "crm_status": pl.String,
}
CHANGE_COLUMNS = [
    "company_id",
    "name",
    "change",
    "previous_segment",
    "current_segment",
    "previous_tier",
    "current_tier",
    "previous_score",
    "current_score",
    "previous_rank",
    "current_rank",
    "held_by_stickiness",
    "rules_changed",
    "reason",
]


@dataclass(frozen=True)
class PreviousRun:
    """The parts of an earlier run directory that a new run compares itself with."""

    path: str
    as_of: dt.date
    rules_sha256: str
    accounts: pl.DataFrame

    @property
    def attributes(self) -> dict[str, pl.DataType]:
        """The company columns the run kept with its accounts (name -> dtype), if any."""
        dtype = self.accounts.schema.get("attributes")
        if not isinstance(dtype, pl.Struct):
            return {}
        return {f.name: f.dtype for f in dtype.fields}

    @property
    def kept_candidates(self) -> bool:
        """Whether the run kept every company that passed a segment's includes.

        Such a run knows each candidate's score, so a company absent from it was no
        candidate at all; an older run kept only the qualified accounts.
        """
        return "attributes" in self.accounts.columns


def load_previous(run_dir: str | Path) -> PreviousRun:
    """Read an earlier run directory.

    Raises:
        DataError: ``run_dir`` has no readable ``summary.json`` or accounts file.
    """
    run_dir = Path(run_dir)
    summary_path, summary = read_run_summary(run_dir)
    try:
        as_of = dt.date.fromisoformat(summary["as_of"])
        rules_sha = summary["rules"]["sha256"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{summary_path} is not a listbuilder summary: {exc}") from None
    accounts_path = run_dir / "accounts.parquet"
    if not accounts_path.is_file():
        raise DataError(f"{run_dir} has no accounts.parquet; rebuild it with this version")
    try:
        accounts = pl.read_parquet(accounts_path)
        # Runs before the attributes were kept have none; their changes say less.
        kept = ["attributes"] if "attributes" in accounts.columns else []
        accounts = accounts.select(*ACCOUNT_COLUMNS, *kept)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"cannot read {accounts_path}: {exc}") from None
    return PreviousRun(str(run_dir), as_of, rules_sha, accounts.cast(ACCOUNT_COLUMNS))  # type: ignore[arg-type]


def _tier_index(segment: Segment, column: str) -> pl.Expr:
    order = {t.name: ix for ix, t in enumerate(segment.tiers)}
    return pl.col(column).replace_strict(order, default=None, return_dtype=pl.Int32)


def _fragment(reasons: str, label: str, points: int) -> pl.Expr:
    """The part of a reasons string that a criterion wrote, with its signal details."""
    # A count quotes its evidence in brackets, other signals after a colon.
    pattern = rf"(?:^|; )({re.escape(f'{label} {points:+d}')}(?: \([^)]*\)|: [^;]*)?)"
    return pl.col(reasons).str.extract(pattern, 1)


def _criteria_diff(
    segment: Segment, now: str, before: str, reasons: str
) -> tuple[pl.Expr, pl.Expr]:
    """``new: ...`` and ``no longer: ...`` (each null when empty) from two fired-label lists.

    The two halves are kept apart so that a rise is explained by what newly fired and a
    fall by what stopped: "no longer: fresh funding +2" says nothing about why an account
    was added.
    """
    if not segment.score:
        return pl.lit(None, pl.String), pl.lit(None, pl.String)
    new_parts, gone_parts = [], []
    for c in segment.score:
        has_now = pl.col(now).list.contains(c.label).fill_null(False)
        had = pl.col(before).list.contains(c.label)
        new_parts.append(
            pl.when(has_now & ~had.fill_null(True)).then(
                pl.coalesce(_fragment(reasons, c.label, c.points), pl.lit(c.label))
            )
        )
        gone_parts.append(
            pl.when(had.fill_null(False) & ~has_now).then(pl.lit(f"{c.label} {c.points:+d}"))
        )
    new = pl.concat_str(new_parts, separator="; ", ignore_nulls=True)
    gone = pl.concat_str(gone_parts, separator="; ", ignore_nulls=True)
    return (
        pl.when(new != "").then(pl.concat_str([pl.lit("new: "), new])),
        pl.when(gone != "").then(pl.concat_str([pl.lit("no longer: "), gone])),
    )


def _directed(change: pl.Expr, new: pl.Expr, gone: pl.Expr) -> pl.Expr:
    """The half of a criteria diff that explains ``change``: its direction, or both."""
    both = pl.concat_str([new, gone], separator="; ", ignore_nulls=True)
    return (
        pl.when(change.is_in(["added", "tier_up"]))
        .then(new)
        .when(change.is_in(["tier_down", "dropped"]))
        .then(gone)
        .otherwise(pl.when(both != "").then(both))
    )


def attribute_columns(rules: Rules) -> list[str]:
    """The company columns the rules read, sorted: what ``accounts.parquet`` keeps."""
    return sorted({c.column for seg in rules.segments for c in seg.conditions()})


def _value_words(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.List):
        words = value.list.eval(pl.element().cast(pl.String)).list.join(", ")
        words = pl.when(value.list.len() > 0).then(words).otherwise(pl.lit("none"))
    else:
        words = value.cast(pl.String)
    return words.fill_null("missing")


def _attribute_changes(
    segment: Segment,
    kept: dict[str, pl.DataType],
    before: pl.Expr,
    now: dict[str, pl.Expr],
) -> pl.Expr:
    """``employees now 150 (was 50)`` for each column the segment reads that changed.

    ``kept`` are the attribute fields of the previous run (name -> dtype), ``before`` its
    struct for the company (null when the previous run did not consider it), ``now``
    this run's values by column.
    """
    read = sorted({c.column for c in segment.conditions()} & set(kept) & set(now))
    parts = [
        pl.when(before.is_not_null() & before.struct.field(c).ne_missing(now[c])).then(
            pl.format(
                f"{c} now {{}} (was {{}})",
                _value_words(now[c], kept[c]),
                _value_words(before.struct.field(c), kept[c]),
            )
        )
        for c in read
    ]
    if not parts:
        return pl.lit(None, pl.String)
    joined = pl.concat_str(parts, separator="; ", ignore_nulls=True)
    return pl.when(joined != "").then(joined)


def _ordinal(n: pl.Expr) -> pl.Expr:
    suffix = (
        pl.when((n % 100).is_between(11, 13))
        .then(pl.lit("th"))
        .when(n % 10 == 1)
        .then(pl.lit("st"))
        .when(n % 10 == 2)
        .then(pl.lit("nd"))
        .when(n % 10 == 3)
        .then(pl.lit("rd"))
        .otherwise(pl.lit("th"))
    )
    return pl.concat_str([n.cast(pl.String), suffix])


def _earned_tier(segment: Segment, score: str) -> pl.Expr:
    """Index of the highest tier whose threshold ``score`` reaches, caps aside."""
    earned = pl.lit(None, pl.Int32)
    points = pl.col(score)
    for ix in reversed(range(len(segment.tiers))):
        tier = segment.tiers[ix]
        if tier.min_fit is not None or tier.min_intent is not None:
            continue  # a fit/intent tier is not judged by the score alone
        # The scoring's own test and percent, so a percent tier in a segment without
        # positive points (no percent at all) is never reached here either.
        reached = tier.reached(points, segment.percent_expr(points), pl.lit(None), pl.lit(None))
        earned = pl.when(reached).then(pl.lit(ix, pl.Int32)).otherwise(earned)
    return earned


def _cap_note(segment: Segment, explained: pl.Expr) -> pl.Expr:
    """Why an account moved a tier because of a cap, not because of its score.

    Down: ``Tier 1 full (cap 50): ranked 51st`` when its score reaches a higher tier whose
    seats went to higher-ranked accounts. Up: ``room in Tier 1 (cap 30): ranked 29th,
    was 31st`` when last month's score already reached the tier but the tier was full, and
    nothing else (``explained`` null) says why it rose.
    """
    earned = _earned_tier(segment, "current_score")
    full = [
        pl.when((earned <= ix) & (pl.col("_now_ix") > ix)).then(
            pl.lit(f"{t.name} full (cap {t.max_accounts:,})")
        )
        for ix, t in enumerate(segment.tiers)
        if t.max_accounts is not None
    ]
    caps = {t.name: t.max_accounts for t in segment.tiers if t.max_accounts is not None}
    if not full:
        return pl.lit(None, pl.String)
    down = pl.concat_str(full, separator=", ", ignore_nulls=True)
    room = pl.format(
        "room in {} (cap {}): ranked {}, was {}",
        "current_tier",
        pl.col("current_tier").replace_strict(caps, default=None, return_dtype=pl.Int64),
        _ordinal(pl.col("current_rank")),
        _ordinal(pl.col("previous_rank")),
    )
    was_earned = _earned_tier(segment, "previous_score") <= pl.col("_now_ix")
    return (
        pl.when((pl.col("change") == "tier_down") & (down != ""))
        .then(pl.concat_str([down, pl.lit(": ranked "), _ordinal(pl.col("current_rank"))]))
        .when(
            (pl.col("change") == "tier_up")
            & explained.is_null()
            & was_earned
            & pl.col("current_tier").is_in(list(caps))
        )
        .then(room)
    )


def _status_words(column: str) -> pl.Expr:
    words = {"customer": "a customer", "open_opportunity": "an open opportunity"}
    status = pl.col(column).str.to_lowercase()
    return status.replace_strict(words, default=status, return_dtype=pl.String)


def _why_not_qualified(segment: Segment, i: int) -> pl.Expr:
    """For an evaluated company that is not in the segment now: the first thing that fails."""
    fails = [
        pl.when(~pl.col(include_col(i, k))).then(pl.lit(f"no longer {c.describe()}"))
        for k, c in enumerate([*segment.include, *segment.include_signals])
    ]
    hits = [
        pl.when(pl.col(exclude_col(i, k))).then(pl.lit(f"excluded: {c.describe()}"))
        for k, c in enumerate(segment.exclusions())
    ]
    lowest = segment.tiers[-1]
    only_score = lowest.min_percent is None and lowest.min_fit is None and lowest.min_intent is None
    if lowest.min_score is not None and only_score:
        below = pl.format(
            f"below {lowest.name} threshold: {{}} < {lowest.min_score}", pl.col(f"_score{i}")
        )
    else:
        below = pl.format(
            f"below {lowest.name} threshold ({lowest.describe()}): score {{}}, {{}}%",
            pl.col(f"_score{i}"),
            pl.col(f"_pct{i}").round(1),
        )
    ineligible = pl.concat_str(
        [pl.lit(None, pl.String), *fails, *hits], separator="; ", ignore_nulls=True
    )
    return pl.when(~pl.col(f"_elig{i}")).then(ineligible).otherwise(below)


def segment_changes(
    rules: Rules,
    i: int,
    previous: PreviousRun,
    accounts: pl.DataFrame,
    now_eval: pl.DataFrame,
    before_eval: pl.DataFrame,
) -> pl.DataFrame:
    """Every change in segment ``i`` between ``previous`` and this run, with its reason.

    Args:
        rules: The current rules.
        i: Index of the segment.
        previous: The previous run.
        accounts: This run's accounts (``ACCOUNT_COLUMNS``).
        now_eval: ``scoring.evaluate_ids`` output, as of now, for previously listed
            companies that are not listed now.
        before_eval: ``scoring.evaluate_ids`` output, as of the previous run, for
            companies listed now that the previous run did not consider.
    """
    segment = rules.segments[i]
    rules_changed = previous.rules_sha256 != rules.sha256
    was = previous.accounts.filter(pl.col("status") == "listed")
    now = accounts.filter(pl.col("status") == "listed")
    current = _classify_listed(
        segment, _listed_now(segment, i, previous, was, now, before_eval), previous
    )
    gone = _classify_gone(
        segment, i, _listed_before(segment, was, now, accounts, now_eval), now, previous
    )
    result = pl.concat(
        [
            _finish(current, rules_changed),
            _finish(gone.with_columns(held=pl.lit(False)), rules_changed),
        ],
        how="vertical_relaxed",
    )
    order = {kind: ix for ix, kind in enumerate(CHANGE_KINDS)}
    return result.sort(
        pl.col("change").replace_strict(order, return_dtype=pl.Int32),
        pl.coalesce("current_rank", "previous_rank"),
        "company_id",
    )


_PREV_COLS = {c: f"previous_{c}" for c in ("segment", "tier", "score", "rank")}
_CUR_COLS = {c: f"current_{c}" for c in ("segment", "tier", "score", "rank")}


def _listed_now(
    segment: Segment,
    i: int,
    previous: PreviousRun,
    was: pl.DataFrame,
    now: pl.DataFrame,
    before_eval: pl.DataFrame,
) -> pl.DataFrame:
    """Accounts on the segment's list now, beside their place and criteria in the last run.

    ``_before`` holds the labels that fired last time: from the previous run's accounts,
    else from re-evaluating the company as of the previous run's date.
    """
    name = segment.name
    in_segment = previous.accounts.filter(pl.col("segment") == name)
    before_fired = in_segment.select("company_id", pl.col("fired").alias("_before_fired")).unique(
        "company_id", keep="first"
    )
    evaluated = before_eval.select("company_id", pl.col(f"_fired{i}").alias("_eval_fired"))
    prev_status = in_segment.select(
        "company_id",
        pl.col("status").alias("_prev_status"),
        pl.col("crm_status").alias("_prev_crm"),
    )
    kept = previous.accounts.select(
        "company_id",
        _prev_attrs=pl.col("attributes") if previous.attributes else pl.lit(None),
        _known=pl.lit(True),
    ).unique("company_id", keep="first")
    # A run that kept every candidate and lacks the company: nothing of it fired then.
    # Re-evaluating the old date on this month's data would credit it with this month's
    # attributes (and call a criterion it lost the reason it was added).
    unseen = pl.col("_known").is_null() & pl.lit(previous.kept_candidates)
    eval_fired = (
        pl.when(unseen).then(pl.lit([], dtype=pl.List(pl.String))).otherwise(pl.col("_eval_fired"))
    )
    return (
        now.filter(pl.col("segment") == name)
        .join(was.select("company_id", *_PREV_COLS).rename(_PREV_COLS), on="company_id", how="left")
        .join(before_fired, on="company_id", how="left")
        .join(evaluated, on="company_id", how="left")
        .join(prev_status.unique("company_id"), on="company_id", how="left")
        .join(kept, on="company_id", how="left")
        .rename(_CUR_COLS)
        .with_columns(
            _before=pl.coalesce("_before_fired", eval_fired),
            _now_ix=_tier_index(segment, "current_tier"),
            _prev_ix=_tier_index(segment, "previous_tier"),
        )
    )


def _listed_change(segment: Segment) -> pl.Expr:
    """The kind of change of an account listed now; null when its place did not change."""
    return (
        pl.when(pl.col("previous_segment").is_null())
        .then(pl.lit("added"))
        .when(pl.col("previous_segment") != segment.name)
        .then(pl.lit("moved_segment"))
        .when(pl.col("_now_ix") < pl.col("_prev_ix"))
        .then(pl.lit("tier_up"))
        .when(pl.col("_now_ix") > pl.col("_prev_ix"))
        .then(pl.lit("tier_down"))
        .when(pl.col("held"))
        .then(pl.lit("held"))
        .when(pl.col("_prev_ix").is_null() & (pl.col("previous_tier") != pl.col("current_tier")))
        .then(pl.lit("tier_down"))
    )


def _classify_listed(
    segment: Segment, current: pl.DataFrame, previous: PreviousRun
) -> pl.DataFrame:
    """Give each account listed now its ``change`` and ``reason``; drop the unchanged."""
    name = segment.name
    new, gone = _criteria_diff(segment, "fired", "_before", "reasons")
    stick = {t.name: t.stickiness for t in segment.tiers}
    held_words = pl.format(
        "held in {} by stickiness: score {} (was {}, allowance {})",
        "current_tier",
        "current_score",
        "previous_score",
        pl.col("current_tier").replace_strict(stick, default=None, return_dtype=pl.Int64),
    )
    status_note = (
        pl.when(pl.col("_prev_status") == "suppressed")
        .then(
            pl.concat_str([pl.lit("no longer "), _status_words("_prev_crm"), pl.lit(" in the CRM")])
        )
        .when(pl.col("_prev_status") == "not_listed")
        .then(pl.lit("previously beyond the caps"))
        .when(pl.col("_prev_status") == "duplicate")
        .then(pl.lit("previously listed under a higher-ranked company with the same domain"))
    )
    if previous.kept_candidates:
        # The previous run kept every candidate of the segment: one it lacks was none.
        status_note = status_note.when(
            pl.col("_prev_status").is_null() & (pl.col("change") == "added")
        ).then(
            pl.lit(
                f"not a candidate for {name} last time: "
                "not in the data, or its includes did not hold"
            )
        )
    now_values = {}
    if "attributes" in current.columns:
        fields = current.schema["attributes"].fields  # type: ignore[attr-defined]
        now_values = {f.name: pl.col("attributes").struct.field(f.name) for f in fields}
    attrs = _attribute_changes(segment, previous.attributes, pl.col("_prev_attrs"), now_values)
    directed = _directed(pl.col("change"), new, gone)
    return (
        current.with_columns(change=_listed_change(segment))
        .filter(pl.col("change").is_not_null())
        .with_columns(
            reason=pl.when(pl.col("held"))
            .then(held_words)
            .otherwise(
                pl.concat_str(
                    [
                        pl.when(pl.col("previous_segment") != name).then(
                            pl.format("moved from {}", "previous_segment")
                        ),
                        status_note,
                        # Causes before the criteria: the report reads every part after
                        # "new: " or "no longer: " as a criterion.
                        attrs,
                        _cap_note(segment, directed),
                        directed,
                    ],
                    separator="; ",
                    ignore_nulls=True,
                )
            ),
        )
    )


def _listed_before(
    segment: Segment,
    was: pl.DataFrame,
    now: pl.DataFrame,
    accounts: pl.DataFrame,
    now_eval: pl.DataFrame,
) -> pl.DataFrame:
    """Accounts on the segment's list last time that are not on it now, with where they are."""
    name = segment.name
    return (
        was.filter(pl.col("segment") == name)
        .join(now.filter(pl.col("segment") == name), on="company_id", how="anti")
        .rename(_PREV_COLS)
        .join(
            # A company is a candidate of several segments but placed in at most one.
            accounts.filter(pl.col("status") != "not_qualified").select(
                "company_id",
                pl.col("segment").alias("_seg_now"),
                pl.col("status").alias("_status_now"),
                pl.col("tier").alias("current_tier"),
                pl.col("score").alias("_score_now"),
                pl.col("rank").alias("current_rank"),
                pl.col("crm_status").alias("_crm_now"),
            ),
            on="company_id",
            how="left",
        )
        .join(now_eval, on="company_id", how="left", suffix="_eval")
        .with_columns(_in_data=pl.col("company_id").is_in(now_eval["company_id"].implode()))
    )


def _classify_gone(
    segment: Segment, i: int, gone: pl.DataFrame, now: pl.DataFrame, previous: PreviousRun
) -> pl.DataFrame:
    """Say where each account that left the segment's list went, and why."""
    name = segment.name
    cap_hit = segment.max_accounts is not None and now.filter(pl.col("segment") == name).height >= (
        segment.max_accounts or 0
    )
    cap_words = "segment cap reached" if cap_hit else "tiers full"
    if f"_elig{i}" not in gone.columns:
        gone = gone.with_columns(pl.lit(None, pl.Boolean).alias(f"_elig{i}"))
    has_eval = f"_score{i}" in gone.columns and f"_fired{i}" in gone.columns
    stopped = (
        _criteria_diff(segment, f"_fired{i}", "fired", "reasons")[1] if has_eval else pl.lit(None)
    )
    now_values = {
        c: pl.col(f"{c}_eval" if f"{c}_eval" in gone.columns else c)
        for c in previous.attributes
        if c in gone.columns
    }
    before = pl.col("attributes") if previous.attributes else pl.lit(None)
    attrs = _attribute_changes(segment, previous.attributes, before, now_values)
    why_eval = _why_not_qualified(segment, i) if has_eval else pl.lit(None, pl.String)
    moved = (pl.col("_status_now") == "listed") & (pl.col("_seg_now") != name)
    return gone.with_columns(
        current_segment=pl.when(pl.col("_status_now") == "listed").then(pl.col("_seg_now")),
        current_score=pl.coalesce(
            "_score_now", pl.col(f"_score{i}") if has_eval else pl.lit(None, pl.Int64)
        ),
        change=pl.when(moved).then(pl.lit("moved_segment")).otherwise(pl.lit("dropped")),
        reason=pl.when(pl.col("_status_now") == "suppressed")
        .then(pl.concat_str([pl.lit("now "), _status_words("_crm_now"), pl.lit(" in the CRM")]))
        .when(moved)
        .then(pl.format("moved to {}", "_seg_now"))
        .when(pl.col("_status_now") == "duplicate")
        .then(pl.lit("listed once, under a higher-ranked company with the same domain"))
        .when((pl.col("_status_now") == "not_listed") & (pl.col("_seg_now") == name))
        .then(pl.lit(cap_words))
        .when(pl.col("_status_now") == "not_listed")
        .then(pl.format("qualifies for {} now, beyond its caps", "_seg_now"))
        .when(~pl.col("_in_data"))
        .then(pl.lit("no longer in the company data"))
        .when(pl.col(f"_qual{i}") if has_eval else pl.lit(False))
        .then(pl.lit("qualifies, but for an earlier segment's list"))
        .otherwise(pl.concat_str([why_eval, attrs, stopped], separator="; ", ignore_nulls=True)),
    )


def _finish(frame: pl.DataFrame, rules_changed: bool) -> pl.DataFrame:
    for column in CHANGE_COLUMNS:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None).alias(column))
    return frame.with_columns(
        held_by_stickiness=pl.col("held").fill_null(False),
        rules_changed=pl.lit(rules_changed),
    ).select(
        pl.col("company_id").cast(pl.String),
        pl.col("name").cast(pl.String),
        pl.col("change").cast(pl.String),
        pl.col("previous_segment").cast(pl.String),
        pl.col("current_segment").cast(pl.String),
        pl.col("previous_tier").cast(pl.String),
        pl.col("current_tier").cast(pl.String),
        pl.col("previous_score").cast(pl.Int64),
        pl.col("current_score").cast(pl.Int64),
        pl.col("previous_rank").cast(pl.Int64),
        pl.col("current_rank").cast(pl.Int64),
        "held_by_stickiness",
        "rules_changed",
        pl.col("reason").cast(pl.String),
    )


def change_counts(changes: pl.DataFrame) -> dict[str, int]:
    """How many changes of each kind, every kind present (zero when none)."""
    counts = dict.fromkeys(CHANGE_KINDS, 0)
    for kind, n in changes.group_by("change").len().iter_rows():
        counts[kind] = n
    return counts
