"""What small files cost a reader, and what maintenance gives back: one simulated day of silver
events as the stream lays them out (a file per 10-s checkpoint: 8,640 files), read by DuckDB
through the catalog and by `dbt build`, then `jobs.py maintain`'s compaction, then the same reads.

    python bench/bench_lake_files.py [--events 2000000] [--checkpoint-seconds 10]

The lake is bench_dbt's synthetic one (one day); silver_events is rewritten into one file per
checkpoint interval of event time and committed in hourly snapshots (the bench's speed: the
file count is the stream's, the snapshot count is not). Printed figures, nothing asserted.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import bench_dbt  # noqa: E402

from pipeline import lake, lake_maintenance, lake_reader, lake_schema  # noqa: E402
from pipeline.lake_writer import commit_with_retries  # noqa: E402

TABLE = "silver_events"
QUERY = (
    "select event_type, count(*), count(distinct user_id), sum(price) "
    "from silver_events group by event_type"
)


def split_into_checkpoints(root: Path, seconds: int) -> int:
    """Rewrite silver_events as one file per `seconds` of event time (on-time events arrive
    within seconds of it, so a checkpoint's file holds about that slice); the file count."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyiceberg.io.pyarrow import parquet_file_to_data_file

    table = lake_reader.load(root, TABLE)
    scan = lake_reader.scan(root, TABLE)
    data_dir = Path(lake_reader.local_path(table.location())) / "data"
    with duckdb.connect() as connection:
        rows = connection.sql(
            f"select *, cast(epoch(event_at) as bigint) // {seconds} as checkpoint "
            f"from ({scan.select_sql()}) order by dt, checkpoint"
        ).to_arrow_table()
    # One file per checkpoint, written with the Iceberg field ids (DuckDB's partitioned COPY
    # holds a writer per partition open: thousands of them exhaust memory).
    ids = {c.name: c.field_id for c in scan.columns}
    columns = rows.drop(["checkpoint"])
    schema = pa.schema(
        [f.with_metadata({"PARQUET:field_id": str(ids[f.name])}) for f in columns.schema]
    )
    columns = columns.cast(schema)
    checkpoints = rows.column("checkpoint").to_numpy()
    days = columns.column("dt").to_numpy(zero_copy_only=False)
    starts = [
        0,
        *(
            i
            for i in range(1, len(checkpoints))
            if checkpoints[i] != checkpoints[i - 1] or days[i] != days[i - 1]
        ),
    ]
    files_by_hour: dict[int, list[str]] = {}
    for start, end in zip(starts, [*starts[1:], len(checkpoints)], strict=True):
        checkpoint = int(checkpoints[start])
        chunk = columns.slice(start, end - start)
        day = chunk.column("dt")[0].as_py()
        target = data_dir / f"dt={day}" / f"ckpt-{checkpoint}-{uuid.uuid4()}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(chunk, target, compression="zstd")
        files_by_hour.setdefault(checkpoint * seconds // 3600, []).append(str(target))
    old = [task.file for task in table.scan().plan_files()]
    first = True
    for hour in sorted(files_by_hour):

        def commit(fresh, files=files_by_hour[hour], replace_old=first) -> None:
            with fresh.transaction() as transaction:
                update = transaction.update_snapshot()
                with update.overwrite() if replace_old else update.fast_append() as snapshot:
                    for data_file in old if replace_old else []:
                        snapshot.delete_data_file(data_file)
                    for path in files:
                        snapshot.append_data_file(
                            parquet_file_to_data_file(fresh.io, fresh.metadata, path)
                        )

        commit_with_retries(root, lake_schema.lake_tables()[TABLE].identifier, commit)
        first = False
    return sum(len(files) for files in files_by_hour.values())


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def reads(root: Path, database: Path, label: str) -> None:
    plan_s, scan = timed(lambda: lake_reader.scan(root, TABLE))
    connection = lake.connect(root)
    query_s, _ = timed(lambda: connection.execute(QUERY).fetchall())
    connection.close()
    if database.exists():
        database.unlink()
    dbt_s = bench_dbt.run_dbt(["build", "--full-refresh"], root, database, threads=None)
    print(
        f"{label}: {TABLE} {len(scan.files):,} data files; plan (pyiceberg) {plan_s:.2f} s, "
        f"DuckDB query {query_s:.2f} s, dbt build --full-refresh {dbt_s:.1f} s",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--checkpoint-seconds", type=int, default=10)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-lake-files-"))
    try:
        root, database = work / "lake", work / "clickstream.duckdb"
        bench_dbt.write_lake(root, args.events, days=1)
        print("lake written; splitting silver_events into checkpoint files ...", flush=True)
        split_s, files = timed(lambda: split_into_checkpoints(root, args.checkpoint_seconds))
        print(f"... {split_s:.0f} s", flush=True)
        print(
            f"one day, {args.events:,} events, a file per {args.checkpoint_seconds} s "
            f"checkpoint: {files:,} files in {TABLE}",
            flush=True,
        )
        reads(root, database, "without maintenance")
        maintain_s, reports = timed(
            lambda: lake_maintenance.maintain(
                root, tables=[TABLE], min_age=timedelta(0), log=lambda _: None
            )
        )
        (report,) = reports
        print(f"maintenance: {report.describe()} in {maintain_s:.1f} s", flush=True)
        reads(root, database, "after maintenance")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
