"""What one dashboard refresh costs over a lake: each panel's queries timed as the app runs them
(dashboard/queries.py over pipeline.lake's views), and, for comparison, the record-level
accounting (pipeline.lake.accounting) the data-quality panel ran on every refresh before it read
the stream's per-minute counts; that check is now the Airflow DAG's and the tests' job.

    python bench/bench_dashboard.py --lake .stack/soak-lake [--repeat 3]

Prints seconds per panel (the best of --repeat refreshes after the first, which reads the
manifests of every snapshot in the panels' hour and so costs more); asserts nothing. bench_soak.py runs
`refresh_timings` on every sample, so its table shows how the cost follows the lake's growth.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard import queries
from pipeline import lake, lake_reader

# Panel -> what it reads on every refresh, as dashboard/app.py calls it.
PANELS: dict[str, Callable[[object, str], object]] = {
    "events": lambda connection, _root: (
        queries.events_per_minute(connection),
        queries.events_by_type(connection),
    ),
    "active-users": lambda connection, _root: queries.active_users_per_window(connection),
    "revenue": lambda connection, _root: (
        queries.revenue_totals(connection),
        queries.revenue_per_window(connection),
        queries.revenue_by_category(connection),
        queries.revenue_by_category_per_window(connection),
    ),
    "devices": lambda connection, _root: queries.purchases_by_device(connection),
    "bots": lambda connection, _root: queries.bot_suspects(connection),
    "hilc": lambda connection, _root: queries.high_interest_low_conversion(connection),
    "quality+quarantine": lambda _connection, root: queries.record_outcomes(root),
}


def refresh_timings(lake_root: str | Path) -> dict[str, float]:
    """Seconds per panel for one refresh (opening the lake counts towards the first)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    connection = queries.open_lake(lake_root)
    opened = time.perf_counter() - started
    try:
        for panel, read in PANELS.items():
            started = time.perf_counter()
            read(connection, str(lake_root))
            timings[panel] = time.perf_counter() - started
    finally:
        connection.close()
    timings["open lake"] = opened
    return timings


def record_level_accounting_s(lake_root: str | Path) -> float:
    started = time.perf_counter()
    lake.accounting(lake_root)
    return time.perf_counter() - started


def lake_size(lake_root: str | Path) -> tuple[int, int]:
    """The data files of every table's current snapshot (through the catalog, so a file a
    checkpoint has not committed is not counted), and their bytes."""
    files = [
        Path(path) for table in lake.TABLES for path in lake_reader.scan(lake_root, table).files
    ]
    return len(files), sum(path.stat().st_size for path in files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lake", type=Path, required=True, help="a lake root")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    files, size = lake_size(args.lake)
    print(f"lake {args.lake}: {files:,} files, {size / 1e6:,.1f} MB")
    first = refresh_timings(args.lake)
    first_read = lake_reader.SNAPSHOT_CHANGES.manifests_read
    runs = [refresh_timings(args.lake) for _ in range(args.repeat)]
    for panel in runs[0]:
        print(f"  {panel:<20} {min(run[panel] for run in runs):8.3f} s")
    print(f"  {'one refresh':<20} {min(sum(run.values()) for run in runs):8.3f} s")
    print(
        f"  {'the first refresh':<20} {sum(first.values()):8.3f} s (it reads every recent "
        f"snapshot's manifests: {first_read:,}; later ones only "
        "those of new snapshots)"
    )
    print(
        f"  {'(before) record-level accounting, the old quality panel':<14} "
        f"{record_level_accounting_s(args.lake):8.3f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
