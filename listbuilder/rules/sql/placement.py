"""Who makes each segment's list, compiled to SQL: one account per registrable domain,
tier stickiness, tiers filled top-down with caps and overflow, the segment's cap, ranks.

The query reads the qualified accounts after CRM matching (``PLACEMENT_TABLE``): the
scoring columns the scored query gives (``_seg``, ``_score{i}``, ``_pct{i}``, ``_fit{i}``,
``_int{i}``, and with stickiness ``_keep{i}``, ``_prev_seg``, ``_prev_tier_ix``), plus what
matching found in Python: ``_excluded`` (suppressed by the CRM), ``_domain`` (the
registrable domain, from the Public Suffix List) and ``_lb_row`` (the accounts' order).

It follows ``tiers.assign_tiers`` step for step, with window functions where polars takes
cumulative sums: accounts are ranked by score descending, ``company_id`` ascending, then
input order; each domain keeps its best-ranked account; held accounts take their seats
first, within their tier's cap and the segment's; the others fill each tier in rank order
until its cap, overflowing to the next tier they reach; the segment's cap cuts the rest.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from listbuilder.rules.definitions import Rules, Segment
from listbuilder.rules.sql.scored import _reaches_sql

# The qualified accounts with their CRM match, as the engine holds them.
PLACEMENT_TABLE = "_lb_placement"
# Ranked order: score descending, then company_id, then the input's order. Nulls first in
# both directions, as polars sorts them.
_RANKED = '"score" DESC NULLS FIRST, "company_id" ASC NULLS FIRST, "_lb_row" ASC'
_RUNNING = 'OVER (ORDER BY "_pos" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)'


def _sql(text: str) -> exp.Expression:
    return sqlglot.parse_one(text)


def _text(expr: exp.Expression) -> str:
    return expr.sql()


def _stage(source: exp.Select, name: str, columns: dict[str, str]) -> exp.Select:
    """``SELECT *, <columns> FROM (<source>)``, each column given as SQL text."""
    return exp.select(
        exp.Star(), *(exp.alias_(_sql(text), alias, quoted=True) for alias, text in columns.items())
    ).from_(source.subquery(name))


def _pin_sql(segment: Segment, i: int) -> str:
    """The tier a held account keeps (``_pin_expr`` in the build): its previous tier,
    while it still qualifies by stickiness and earns no higher tier."""
    higher = [
        f'WHEN "_prev_tier_ix" = {ix} THEN ('
        + " OR ".join(_text(_reaches_sql(segment, i, k)) for k in range(ix))
        + ")"
        for ix in range(1, len(segment.tiers))
    ]
    earns_higher = f"CASE {' '.join(higher)} ELSE FALSE END" if higher else "FALSE"
    held = f'COALESCE("_keep{i}" AND "_prev_seg" = {i} AND NOT ({earns_higher}), FALSE)'
    return f'CASE WHEN {held} THEN CAST("_prev_tier_ix" AS INT) END'


def _fill(
    step: exp.Select, segment: Segment, i: int, free: str, suffix: str, *, after_holds: bool
) -> exp.Select:
    """Tier by tier, the free accounts that reach a tier with room take its seats in rank
    order; ``_tier{suffix}`` ends as the tier each seated account got (null: no seat).
    ``after_holds``: the held accounts' seats are taken already, so caps have less room."""
    previous = "NULL"
    for k, tier in enumerate(segment.tiers):
        open_ = f"{previous} IS NULL AND {free} AND {_text(_reaches_sql(segment, i, k))}"
        take = open_
        if tier.max_accounts is not None:
            room = f"{tier.max_accounts} - {_held_in(k)}" if after_holds else tier.max_accounts
            running = f"SUM(CASE WHEN {open_} THEN 1 ELSE 0 END) {_RUNNING}"
            take = f"{open_} AND {running} <= {room}"
        column = f'"_t{k}{suffix}"'
        step = _stage(
            step,
            f"_tier{k}{suffix}",
            {column[1:-1]: f"CASE WHEN {take} THEN {k} ELSE {previous} END"},
        )
        previous = column
    seats = segment.max_accounts
    kept = f"{previous} IS NOT NULL"
    if seats is not None:
        room = f"{seats} - {_held_in(None)}" if after_holds else str(seats)
        kept = f"{kept} AND SUM(CASE WHEN {kept} THEN 1 ELSE 0 END) {_RUNNING} <= {room}"
    return _stage(
        step, f"_capped{suffix}", {f"_tier{suffix}": f"CASE WHEN {kept} THEN {previous} END"}
    )


def _held_in(tier_ix: int | None) -> str:
    """How many held accounts sit in a tier (or in the whole list), over every row."""
    which = '"_held"' if tier_ix is None else f'"_held" AND "_pin" = {tier_ix}'
    return f"SUM(CASE WHEN {which} THEN 1 ELSE 0 END) OVER ()"


def placement_sql(
    rules: Rules, i: int, *, sticky: bool, table: str = PLACEMENT_TABLE
) -> exp.Select:
    """Segment ``i``'s accounts that the CRM did not suppress, one row each: ``_lb_row``,
    ``_pos`` (rank order), ``_status`` (``listed``, ``duplicate``, ``not_listed``),
    ``_tier_ix``, ``rank`` and ``held``, as the polars build assigns them."""
    segment = rules.segments[i]
    source = (
        exp.select("*").from_(exp.to_table(table)).where(_sql(f'"_seg" = {i} AND NOT "_excluded"'))
    )
    step = _stage(
        source,
        "_assigned",
        {
            "score": f'"_score{i}"',
            "_pin": _pin_sql(segment, i) if sticky else "CAST(NULL AS INT)",
        },
    )
    step = _stage(step, "_ranked", {"_pos": f"ROW_NUMBER() OVER (ORDER BY {_RANKED})"})
    first = '"_domain" IS NULL OR ROW_NUMBER() OVER (PARTITION BY "_domain" ORDER BY "_pos") = 1'
    step = _stage(step, "_domains", {"_first": first})
    caps = " ".join(
        f"WHEN {ix} THEN {t.max_accounts}"
        for ix, t in enumerate(segment.tiers)
        if t.max_accounts is not None
    )
    cap_of_pin = f'CASE "_pin" {caps} END' if caps else "NULL"
    pinned = '"_first" AND "_pin" IS NOT NULL'
    seat = f'ROW_NUMBER() OVER (PARTITION BY {pinned}, "_pin" ORDER BY "_pos")'
    step = _stage(step, "_pins", {"_fits": f"{pinned} AND COALESCE({seat} <= {cap_of_pin}, TRUE)"})
    held = '"_fits"'
    if segment.max_accounts is not None:
        running = f'SUM(CASE WHEN "_fits" THEN 1 ELSE 0 END) {_RUNNING}'
        held = f'"_fits" AND {running} <= {segment.max_accounts}'
    step = _stage(step, "_holds", {"_held": held})
    step = _fill(step, segment, i, '"_first" AND NOT "_held"', "", after_holds=True)
    tier = 'CASE WHEN "_held" THEN "_pin" ELSE "_tier" END'
    real_hold = '"_held"'
    if sticky:
        step = _fill(step, segment, i, '"_first"', "_free", after_holds=False)
        real_hold = '"_held" AND ("_tier_free" IS NULL OR "_tier_free" <> "_pin")'
    step = _stage(step, "_placed", {"_tier_ix": tier, "held": real_hold})
    order = (
        '"_tier_ix" ASC, "score" DESC NULLS FIRST, "company_id" ASC NULLS FIRST, '
        'CASE WHEN "_held" THEN 0 ELSE 1 END ASC, "_pos" ASC'
    )
    listed = '"_tier_ix" IS NOT NULL'
    rank = f"CASE WHEN {listed} THEN ROW_NUMBER() OVER (PARTITION BY {listed} ORDER BY {order}) END"
    status = (
        f"CASE WHEN NOT \"_first\" THEN 'duplicate' WHEN {listed} THEN 'listed' "
        "ELSE 'not_listed' END"
    )
    return exp.select(
        exp.column("_lb_row", quoted=True),
        exp.alias_(exp.cast(exp.column("_pos", quoted=True), "BIGINT"), "_pos", quoted=True),
        exp.alias_(_sql(status), "_status", quoted=True),
        exp.alias_(exp.cast(exp.column("_tier_ix", quoted=True), "INT"), "_tier_ix", quoted=True),
        exp.alias_(exp.cast(_sql(rank), "BIGINT"), "rank", quoted=True),
        exp.alias_(_sql('COALESCE("held", FALSE)'), "held", quoted=True),
    ).from_(step.subquery("_final"))


def placements_sql(rules: Rules, *, sticky: bool, table: str = PLACEMENT_TABLE) -> exp.Query:
    """Every segment's placement (``placement_sql``) in one query, with ``_seg``."""
    parts = [
        exp.select(
            exp.alias_(exp.cast(exp.Literal.number(i), "INT"), "_seg", quoted=True), exp.Star()
        ).from_(placement_sql(rules, i, sticky=sticky, table=table).subquery(f"_seg{i}"))
        for i in range(len(rules.segments))
    ]
    query: exp.Query = parts[0]
    for part in parts[1:]:
        query = exp.union(query, part, distinct=False)
    return query


def placement_columns(rules: Rules, *, sticky: bool) -> list[str]:
    """The columns of the qualified accounts the placement query reads."""
    columns = ["company_id", "_seg", "_excluded", "_domain", "_lb_row"]
    for i in range(len(rules.segments)):
        columns += [f"_score{i}", f"_pct{i}", f"_fit{i}", f"_int{i}"]
        columns += [f"_keep{i}"] if sticky else []
    return columns + (["_prev_seg", "_prev_tier_ix"] if sticky else [])
