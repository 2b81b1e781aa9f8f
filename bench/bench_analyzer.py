"""Time the analyzer against rg and jq on a big tree, whole processes; print a Markdown table.

Run by hand (not a test): python bench/bench_analyzer.py --tree /tmp/bigtree [--no-jq]
The page cache is warm for every run (dropping it needs root); "cold" means no --cache
catalog. The --cache runs use a fresh catalog directory: "first" builds the catalog (and
stores its answer), "repeat" runs it again (the stored answer is printed), "catalog" runs it
again with a COLUMNS value never used before, which is part of a stored answer's key, so the
answer comes from the catalog (DuckDB) or the id index (trace) as for a question not asked
before; "new id" traces ids not asked before; "grown" runs after appending about 1% new
bytes (the append changes the tree: it is the last step).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


_fresh_columns = iter(range(1000, 100000))


def timed(cmd: list[str], env: dict[str, str], runs: int,
          fresh_key: bool = False) -> tuple[float, int]:
    """Median wall time of cmd over runs, and its last exit code (output discarded).

    fresh_key: give each run a COLUMNS value never used, so no stored answer matches it.
    """
    times = []
    code = 0
    for _ in range(runs):
        run_env = {**env, "COLUMNS": str(next(_fresh_columns))} if fresh_key else env
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=run_env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, check=False)
        times.append(time.perf_counter() - start)
        code = proc.returncode
        if code not in (0, 1):
            sys.stderr.write(f"{' '.join(cmd)} exited {code}: {proc.stderr.decode()[-500:]}\n")
    return statistics.median(times), code


def pick_ids(tree: Path, count: int) -> list[str]:
    """count correlation ids spread over the tree, the first from its middle (trade_ids.txt)."""
    ids = (tree / "trade_ids.txt").read_text().split()
    step = max(1, len(ids) // (count + 1))
    return [ids[len(ids) // 2], *(ids[(i * step + 7) % len(ids)] for i in range(1, count))]


def commands_available(env: dict[str, str]) -> set[str]:
    """The logtool subcommands this build registers."""
    out = subprocess.run([str(VENV_BIN / "logtool"), "--help"], env=env, capture_output=True,
                         text=True, check=False).stdout
    return {name for name in ("trace", "container-health", "tiers") if f" {name} " in out}


def grow(tree: Path, fraction: float) -> int:
    """Append copies of each container log's first lines (~fraction of its size); bytes added."""
    added = 0
    for path in sorted((tree / "containers").glob("*/*.log")):
        want = int(path.stat().st_size * fraction)
        with path.open("rb") as fh:
            chunk = fh.read(want)
        chunk = chunk[: chunk.rfind(b"\n") + 1]
        with path.open("ab") as fh:
            fh.write(chunk)
        added += len(chunk)
    return added


# DuckDB reading the container logs with explicit types, three ways: an aggregate that uses
# two of the columns (container_id, level; the reader skips the rest) over containers/*/*.log;
# a scan of the files container-health reads (container logs, rotated .gz and master.log)
# that takes every log column at its type; and container-health's numbers as one
# hand-written query over those files (no master.log rule, no path fallbacks, no skip count).
DUCKDB_SCANS = {
    "narrow": ("containers/*/*.log", "container_id, count(*), "
               "count(*) FILTER (WHERE level = 'ERROR')", "GROUP BY ALL"),
    "typed": ("containers/*/*.log*", "count(timestamp), count(level), count(container_id), "
              "count(component_name), count(message), count(event_scope), "
              "count(correlation_id), count(context)", ""),
    "health": ("containers/*/*.log*", "container_id, count(*), "
               "count(*) FILTER (WHERE level = 'WARNING'), "
               "count(*) FILTER (WHERE level IN ('ERROR', 'CRITICAL')), "
               "count(DISTINCT component_name), min(timestamp), max(timestamp)",
               "GROUP BY container_id"),
}
DUCKDB_SCAN = """
import duckdb, glob, sys
root, pattern, select, group = sys.argv[1:5]
files = sorted(glob.glob(root + '/' + pattern))
if pattern.endswith('*'):
    files.append(root + '/master.log')
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(f'''SELECT {select}
FROM read_json($f, format='newline_delimited', ignore_errors=true,
  columns={{timestamp: 'TIMESTAMP', level: 'VARCHAR', container_id: 'VARCHAR',
           component_name: 'VARCHAR', message: 'VARCHAR', event_scope: 'VARCHAR',
           correlation_id: 'VARCHAR', context: 'JSON'}}) {group}''', {'f': files}).fetchall()
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--no-jq", action="store_true", help="skip jq (~25 s per GB)")
    parser.add_argument("--no-grow", action="store_true", help="do not append to the tree")
    args = parser.parse_args(argv)
    tree = args.tree.resolve()
    cid, *other_ids = pick_ids(tree, args.runs + 1)
    size = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
    cache_home = Path(tempfile.mkdtemp(prefix="logtool-bench-cache-"))
    env = {**os.environ, "LOGTOOL_CACHE_DIR": str(cache_home)}
    logtool = str(VENV_BIN / "logtool")
    rows: list[tuple[str, str, float, int]] = []

    def record(what: str, mode: str, seconds: float, code: int) -> None:
        rows.append((what, mode, seconds, code))
        sys.stderr.write(f"{what:<34} {mode:<8} {seconds:7.3f} s (exit {code})\n")

    def add(what: str, mode: str, cmd: list[str], runs: int = args.runs,
            fresh_key: bool = False) -> None:
        record(what, mode, *timed(cmd, env, runs, fresh_key))

    try:
        add("python startup", "-", [sys.executable, "-c", "pass"])
        add("import logtool.cli.application", "-",
            [sys.executable, "-c", "import logtool.cli.application"])
        add("logtool version", "-", [logtool, "version"])
        add(f"rg -F {cid}", "-", ["rg", "-F", cid, str(tree)])
        if not args.no_jq:
            files = [str(p) for p in sorted(tree.rglob("*.log")) + sorted(tree.rglob("*.jsonl"))]
            add("jq select(.correlation_id)", "-",
                ["jq", "-c", f'select(.correlation_id == "{cid}")', *files], runs=1)
        for name, (pattern, select, group) in DUCKDB_SCANS.items():
            add(f"duckdb {name} scan", "-",
                [sys.executable, "-c", DUCKDB_SCAN, str(tree), pattern, select, group])
        available = commands_available(env)
        commands = {
            "logtool trace": [logtool, "trace", cid, str(tree), "--json"],
            "logtool container-health": [logtool, "container-health", str(tree), "--json"],
            "logtool tiers": [logtool, "tiers", str(tree), "--json"],
        }
        commands = {k: v for k, v in commands.items() if k.split()[1] in available}
        for what, cmd in commands.items():
            add(what, "cold", cmd)
        for what, cmd in commands.items():
            add(what, "first", [*cmd, "--cache"], runs=1)
            add(what, "repeat", [*cmd, "--cache"])
            add(what, "catalog", [*cmd, "--cache"], fresh_key=True)
        if "logtool trace" in commands:
            # A different id each run: never a stored answer, always the id index.
            times = [timed([logtool, "trace", other, str(tree), "--json", "--cache"], env, 1)
                     for other in other_ids]
            record("logtool trace", "new id", statistics.median(t for t, _ in times),
                   max(c for _, c in times))
        if not args.no_grow:
            added = grow(tree, 0.01)
            sys.stderr.write(f"appended {added / 1024**2:.1f} MB\n")
            for what, cmd in commands.items():
                add(what, "grown", [*cmd, "--cache"], runs=1)
    finally:
        shutil.rmtree(cache_home, ignore_errors=True)

    print(f"Tree: {size / 1024**3:.2f} GB, "
          f"{sum(1 for _ in (tree / 'containers').iterdir())} containers, id `{cid}`; "
          f"{os.cpu_count()} cores, page cache warm, median of {args.runs} runs "
          "(first, grown and jq: one run).\n")
    print("| command | catalog | seconds | exit |")
    print("|---|---|---:|---:|")
    for what, mode, seconds, code in rows:
        print(f"| `{what}` | {mode} | {seconds:.3f} | {code} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
