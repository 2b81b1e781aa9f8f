"""Analyzer commands: container-health, tiers, errors, export, query, summary (thin wrappers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated

import typer

from logtool.errors import BadInputError, NotFoundError

if TYPE_CHECKING:
    from logtool.analyze.load import Tree

PathArg = Annotated[
    Path | None, typer.Argument(help="Tree root, any directory below it, or one file "
                                     "[default: $LOGTOOL_ROOT or ./logs]")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
ArchivedOpt = Annotated[bool, typer.Option("--archived", help="Also read archived/ files.")]
CacheOpt = Annotated[
    bool, typer.Option("--cache", help="Use the persistent catalog (kept outside the tree).")
]
SinceOpt = Annotated[
    str | None, typer.Option(help="Only records at or after this ISO-8601 time (UTC if no zone).")
]
UntilOpt = Annotated[str | None, typer.Option(help="Only records before this ISO-8601 time.")]


def parse_time(text: str | None, option: str) -> datetime | None:
    """An ISO-8601 time as a naive UTC datetime; BadInputError naming the option when invalid."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadInputError(
            f"{option}: not an ISO-8601 time: {text!r}",
            hint="Example: 2026-11-21T10:00:00Z or 2026-11-21") from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


@contextmanager
def opened(path: Path | None, archived: bool, cache: bool, *, light: bool = False
           ) -> Iterator[Tree]:
    """Open the tree (progress bar on a terminal while files are inspected), close it after."""
    from logtool.analyze.load import open_tree
    from logtool.cli import common

    root = path if path is not None else common.default_root()
    common.note_tree(root, archived)
    if not common.progress_enabled():
        tree = open_tree(root, archived=archived, cache=cache, light=light)
    else:
        from rich.progress import Progress

        with Progress(console=common.err, transient=True) as bar:
            task = bar.add_task("Opening tree", total=None)

            def step(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            tree = open_tree(root, archived=archived, cache=cache, progress=step, light=light)
    common.report_catalog(getattr(tree, "cache_stats", None))
    try:
        yield tree
    finally:
        tree.close()


@contextmanager
def _row_progress(label: str) -> Iterator[Callable[[int], None] | None]:
    """A rows-so-far progress display on a terminal, else None."""
    from logtool.cli import common

    if not common.progress_enabled():
        yield None
        return
    from rich.progress import Progress

    with Progress(console=common.err, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def step(rows: int) -> None:
            bar.update(task, completed=rows, description=f"{label}: {rows:,} rows")

        yield step


def container_health(
    path: PathArg = None,
    degraded_rate: Annotated[float, typer.Option(help="Error rate at which a container is degraded.")] = 0.01,  # noqa: E501
    failing_rate: Annotated[float, typer.Option(help="Error rate at which it is failing.")] = 0.10,
    warning_rate: Annotated[float, typer.Option(help="Warning rate at which it is degraded.")] = 0.10,  # noqa: E501
    silent_after: Annotated[float, typer.Option(help="Seconds without records, before the tree's newest record, after which it is silent.")] = 300.0,  # noqa: E501
    json: JsonOpt = False,
    archived: ArchivedOpt = False,
    cache: CacheOpt = False,
) -> None:
    """One row per container: records, warnings, errors, error rate, activity and a status."""
    from logtool.analyze.health import Thresholds
    from logtool.analyze.health import container_health as run
    from logtool.cli import common

    thresholds = Thresholds(degraded_rate, failing_rate, warning_rate, silent_after)
    thresholds.check()
    with opened(path, archived, cache, light=True) as tree:
        report = run(tree, thresholds)
    if not report.containers:
        raise NotFoundError("no container records found", hint=_skip_hint(report.skipped_lines))
    if json:
        common.print_json([c.to_json() for c in report.containers])
    else:
        _renderers().health(report, common.out)
    detail = report.skipped.detail() or " (`logtool summary --json` lists files and lines)"
    common.report_skipped(report.skipped_lines, detail)


def tiers(
    path: PathArg = None,
    by_route: Annotated[bool, typer.Option("--by-route", help="One row per tier and source → target.")] = False,  # noqa: E501
    json: JsonOpt = False,
    archived: ArchivedOpt = False,
    cache: CacheOpt = False,
) -> None:
    """Per tier: flow count and p50/p90/p99/max latency in ms (linear interpolation)."""
    from logtool.analyze.tiers import tier_latencies
    from logtool.cli import common

    with opened(path, archived, cache) as tree:
        report = tier_latencies(tree, by_route=by_route)
    if not report.rows:
        raise NotFoundError("no flow records with a tier found",
                            hint=_skip_hint(report.skipped.total))
    if json:
        common.print_json([r.to_json() for r in report.rows])
    else:
        _renderers().tiers(report, common.out)
    common.report_skipped(report.skipped.total, report.skipped.detail())


def errors(
    path: PathArg = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    top: Annotated[int, typer.Option(help="How many entries per list.")] = 10,
    json: JsonOpt = False,
    archived: ArchivedOpt = False,
    cache: CacheOpt = False,
) -> None:
    """Error hotspots: top containers, components, messages and codes, and a time histogram."""
    from logtool.analyze.hotspots import error_hotspots
    from logtool.cli import common

    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    with opened(path, archived, cache) as tree:
        spots = error_hotspots(tree, since=start, until=end, top=top)
    if not spots.total and not spots.codes:
        raise NotFoundError("no ERROR or CRITICAL records found",
                            hint=_skip_hint(spots.skipped.total))
    if json:
        common.print_json(spots.to_json())
    else:
        _renderers().hotspots(spots, common.out)
    common.report_skipped(spots.skipped.total, spots.skipped.detail())


def export(
    path: PathArg = None,
    table: Annotated[str, typer.Option(help="logs, flows, correlations, metrics, events, an event type or a named query.")] = "logs",  # noqa: E501
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "parquet",
    out: Annotated[Path | None, typer.Option(help="Output file, or directory (outside the tree).")] = None,  # noqa: E501
    container: Annotated[str | None, typer.Option(help="Only this container_id.")] = None,
    correlation: Annotated[str | None, typer.Option(help="Only this correlation_id.")] = None,
    level: Annotated[str | None, typer.Option(help="Only this level.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    partition_by: Annotated[str | None, typer.Option(help="container, date or container,date: a hive-partitioned dataset directory.")] = None,  # noqa: E501
    param: Annotated[list[str] | None, typer.Option(help="k=v for a named query's $k.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out.")] = False,  # noqa: E501
    json: JsonOpt = False,
    archived: ArchivedOpt = False,
    cache: CacheOpt = False,
) -> None:
    """Write a table to CSV or Parquet (atomically: temp name, then rename)."""
    from logtool.analyze.export import export as run
    from logtool.analyze.query import parse_param
    from logtool.cli import common

    if out is None:
        raise BadInputError("--out is required", hint="Give a file or directory outside the tree.")
    parts = [p.strip() for p in partition_by.split(",") if p.strip()] if partition_by else []
    params = dict(parse_param(p) for p in param or [])
    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    with opened(path, archived, cache) as tree, _row_progress("Exporting") as step:
        result = run(tree, table, fmt.lower(), out, container=container, correlation=correlation,
                     level=level, since=start, until=end, partition_by=parts, params=params,
                     overwrite=overwrite, progress=step)
    if json:
        common.print_json(result.to_json())
    common.err.print(f"Wrote {result.rows} row(s) of {result.table} to {result.path}")
    common.report_skipped(result.skipped.total, result.skipped.detail())


def query(
    sql: Annotated[str | None, typer.Argument(help="SQL over the views, or a named query.")] = None,
    path: PathArg = None,
    param: Annotated[list[str] | None, typer.Option(help="k=v bound to $k (int, float, else text).")] = None,  # noqa: E501
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    list_: Annotated[bool, typer.Option("--list", help="List the named queries.")] = False,
    json: JsonOpt = False,
    archived: ArchivedOpt = False,
    cache: CacheOpt = False,
) -> None:
    """Run read-only SQL over the views (logs, flows, correlations, metrics, events...) or a named query."""  # noqa: E501
    from logtool.analyze.query import list_named, parse_param, run_query
    from logtool.cli import common

    if list_:
        named = list_named()
        if json:
            common.print_json(named)
        else:
            _renderers().named_queries(named, common.out)
        return
    if sql is None:
        raise BadInputError("give SQL or a named query", hint="See `logtool query --list`.")
    fmt = "json" if json else fmt.lower()
    if fmt not in ("table", "csv", "json"):
        raise BadInputError(f"--format must be table, csv or json, got {fmt!r}")
    params = dict(parse_param(p) for p in param or [])
    with opened(path, archived, cache) as tree:
        result = run_query(tree, sql, params)
    if not result.rows:
        common.report_skipped(result.skipped.total, result.skipped.detail())
        raise NotFoundError("the query returned no rows")
    if fmt == "json":
        common.print_json(result.records())
    elif fmt == "csv":
        _renderers().csv_rows(result.columns, result.rows)
    else:
        _renderers().query_table(result.columns, result.rows, common.out)
    common.report_skipped(result.skipped.total, result.skipped.detail())


def summary(
    path: PathArg = None,
    json: JsonOpt = False,
    archived: ArchivedOpt = False,
    cache: CacheOpt = False,
) -> None:
    """Containers, components, record counts by kind and level, time span, tiers, disk, skipped."""
    from logtool.analyze.summary import summarize
    from logtool.cli import common

    with opened(path, archived, cache) as tree:
        result = summarize(tree)
    if not result.records:
        raise NotFoundError("no records found", hint=_skip_hint(result.skipped.total))
    if json:
        common.print_json(result.to_json())
    else:
        _renderers().summary(result, common.out)
    common.report_skipped(result.skipped.total, result.skipped.detail())


def _renderers() -> ModuleType:
    """The rich renderers, imported only when something is drawn (--json never imports rich)."""
    from logtool.cli import render_analyze

    return render_analyze


def _skip_hint(skipped: int) -> str | None:
    return f"{skipped} line(s) were unreadable and skipped." if skipped else None


def register(app: typer.Typer) -> None:
    """Add this module's commands to app."""
    app.command("container-health")(container_health)
    app.command("tiers")(tiers)
    app.command("errors")(errors)
    app.command("export")(export)
    app.command("query")(query)
    app.command("summary")(summary)
