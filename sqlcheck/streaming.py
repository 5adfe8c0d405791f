"""Streaming semantics of a query, read off its tree: which relations and views it reads, its
ROW_NUMBER() deduplications and top-N filters, and what makes it an updating (not append-only)
stream."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlglot import exp

from sqlcheck.catalog import Catalog, ViewDef, relation_name
from sqlcheck.dialect import Flink, WindowTVF
from sqlcheck.project import SourceFile


def cte_names(query: exp.Expr) -> set[str]:
    return {cte.alias_or_name for cte in query.find_all(exp.CTE)}


def read_relations(query: exp.Expr) -> list[exp.Table]:
    """Table references read by ``query`` (CTE names excluded)."""
    local = cte_names(query)
    return [
        table
        for table in query.find_all(exp.Table)
        if relation_name(table) and relation_name(table) not in local
    ]


def views_reached(query: exp.Expr, catalog: Catalog, seen: set[str] | None = None) -> list[ViewDef]:
    """Views read by ``query``, transitively, each once, in discovery order."""
    seen = set() if seen is None else seen
    reached: list[ViewDef] = []
    for table in read_relations(query):
        name = relation_name(table)
        view = catalog.views.get(name or "")
        if view is None or view.name in seen:
            continue
        seen.add(view.name)
        reached.append(view)
        reached.extend(views_reached(view.query, catalog, seen))
    return reached


@dataclass(frozen=True)
class RankFilter:
    """A ROW_NUMBER() projection and how the enclosing query filters on it."""

    row_number: exp.Expr  # the RowNumber call
    window: exp.Window
    kind: str  # "dedup", "dedup-last", "top-n", "window-top-n", "unfiltered"
    detail: str


def _single_literal_int(node: exp.Expr | None) -> int | None:
    if isinstance(node, exp.Literal) and node.is_int:
        return int(node.name)
    return None


def _column_names(nodes: Iterable[exp.Expr]) -> set[str]:
    return {n.name for n in nodes if isinstance(n, exp.Column)}


def _filter_on(condition: exp.Expr | None, alias: str) -> list[exp.Expr]:
    """Predicates in a WHERE (AND-ed) that compare the column ``alias`` with something."""
    if condition is None:
        return []
    found = []
    for predicate in condition.find_all(
        exp.EQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.Between, exp.In
    ):
        if any(
            isinstance(side, exp.Column) and side.name == alias
            for side in (predicate.this, predicate.args.get("expression"))
        ):
            found.append(predicate)
    return found


def rank_filters(query: exp.Expr) -> list[RankFilter]:
    """ROW_NUMBER() projections in ``query`` and the filters applied to them by the outer query."""
    results: list[RankFilter] = []
    for row_number in query.find_all(exp.RowNumber):
        window = row_number.parent
        if not isinstance(window, exp.Window):
            continue
        alias_node = window.parent
        alias = alias_node.alias if isinstance(alias_node, exp.Alias) else ""
        inner = window.find_ancestor(exp.Select)
        outer = _outer_select(inner) if inner is not None else None
        partition = _column_names(window.args.get("partition_by") or [])
        order = window.args.get("order")
        descending = bool(order and any(o.args.get("desc") for o in order.expressions))
        predicates = _filter_on(outer.args.get("where") if outer else None, alias)
        if not alias or not predicates:
            results.append(RankFilter(row_number, window, "unfiltered", "no filter on the rank"))
            continue
        if {"window_start", "window_end"} <= partition:
            results.append(
                RankFilter(row_number, window, "window-top-n", "per-window rank (append-only)")
            )
            continue
        is_dedup = False
        detail = ""
        for predicate in predicates:
            value = _single_literal_int(predicate.args.get("expression"))
            if isinstance(predicate, exp.EQ) and value == 1:
                is_dedup = True
            else:
                detail = predicate.sql(dialect=Flink)
        if detail:
            results.append(RankFilter(row_number, window, "top-n", f"top-N filter {detail}"))
        elif is_dedup and descending:
            results.append(
                RankFilter(row_number, window, "dedup-last", "keep-last-row deduplication (DESC)")
            )
        elif is_dedup:
            results.append(RankFilter(row_number, window, "dedup", f"{alias} = 1 deduplication"))
    return results


def _outer_select(inner: exp.Select) -> exp.Select | None:
    """The SELECT that reads ``inner`` as a subquery in FROM (or via a CTE)."""
    node: exp.Expr | None = inner
    while node is not None and isinstance(node.parent, (exp.Subquery, exp.Union)):
        node = node.parent
    parent = node.parent if node is not None else None
    if isinstance(parent, exp.From):
        select = parent.parent
        return select if isinstance(select, exp.Select) else None
    if isinstance(parent, exp.CTE):
        name = parent.alias_or_name
        with_ = parent.parent
        query = with_.parent if with_ is not None else None
        if isinstance(query, exp.Select):
            for table in query.find_all(exp.Table):
                if relation_name(table) == name:
                    select = table.find_ancestor(exp.Select)
                    if select is not None:
                        return select
    return None


def _has_window_tvf(select: exp.Select, catalog: Catalog) -> bool:
    source = select.args.get("from_")
    sources: list[exp.Expr] = [source] if source is not None else []
    sources.extend(select.args.get("joins") or [])
    for node in sources:
        if node.find(WindowTVF):
            return True
        for table in node.find_all(exp.Table):
            view = catalog.views.get(relation_name(table) or "")
            if view is not None and view.query.find(WindowTVF):
                return True
    return False


def _is_aggregate_select(select: exp.Select) -> bool:
    if select.args.get("group") or select.args.get("distinct"):
        return True
    for projection in select.expressions:
        for agg in projection.find_all(exp.AggFunc):
            # the nearest enclosing OVER/SELECT is this select: a plain (non-OVER) aggregate
            if agg.find_ancestor(exp.Window, exp.Select) is select:
                return True
    return False


_LEGACY_GROUP_WINDOWS = {"TUMBLE", "HOP", "SESSION"}


def _is_windowed_aggregation(select: exp.Select, catalog: Catalog) -> bool:
    group = select.args.get("group")
    keys = list(group.expressions) if group else []
    if any(
        isinstance(k, exp.Anonymous) and str(k.this).upper() in _LEGACY_GROUP_WINDOWS for k in keys
    ):
        return True
    names = _column_names(keys)
    return {"window_start", "window_end"} <= names and _has_window_tvf(select, catalog)


def _is_append_only_outer_join(join: exp.Join) -> bool:
    right = join.this
    if isinstance(right, (exp.Unnest, exp.Lateral)) or right.find(exp.Unnest, exp.Lateral):
        return True
    if isinstance(right, exp.Table) and right.args.get("version") is not None:
        return True  # temporal join: FOR SYSTEM_TIME AS OF
    condition = join.args.get("on")
    if condition is None:
        return False
    if condition.find(exp.Between, exp.LT, exp.LTE, exp.GT, exp.GTE):
        return True  # interval join
    equated = set()
    for eq in condition.find_all(exp.EQ):
        equated |= _column_names([eq.this, eq.expression])
    return {"window_start", "window_end"} <= equated  # window join


@dataclass(frozen=True)
class Updating:
    reason: str
    file: SourceFile
    node: exp.Expr


def updating_constructs(query: exp.Expr, file: SourceFile, catalog: Catalog) -> list[Updating]:
    """Why ``query`` (not following views) produces updates rather than appends."""
    reasons: list[Updating] = []
    for select in query.find_all(exp.Select):
        if _is_aggregate_select(select) and not _is_windowed_aggregation(select, catalog):
            group = select.args.get("group")
            if group is not None:
                what = f"GROUP BY {', '.join(g.sql(dialect=Flink) for g in group.expressions)}"
                reasons.append(Updating(f"regular aggregation ({what})", file, group))
            elif select.args.get("distinct"):
                reasons.append(Updating("SELECT DISTINCT", file, select))
            else:
                reasons.append(Updating("global aggregation", file, select))
        for join in select.args.get("joins") or []:
            side = (join.side or "").upper()
            if side in ("LEFT", "RIGHT", "FULL") and not _is_append_only_outer_join(join):
                reasons.append(Updating(f"{side} OUTER JOIN", file, join))
    for rank in rank_filters(query):
        if rank.kind in ("top-n", "dedup-last"):
            reasons.append(Updating(rank.detail, file, rank.row_number))
    return reasons
