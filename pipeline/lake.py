"""The lake as the Python readers see it: row counts and the accounting identity, over the
Iceberg tables read through `pipeline.lake_reader` (one pinned snapshot per table)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipeline import lake_reader, lake_schema

# The lake tables by Flink table name, each the DuckDB view `connect` creates.
TABLES = tuple(lake_schema.lake_tables())


def connect(lake_root: str | Path, **pinned) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per lake table, each at its current snapshot (or as
    `lake_reader.connect` pins it: `as_of`, `snapshots`)."""
    return lake_reader.connect(lake_root, **pinned)


def committed_files(lake_root: str | Path, table: str) -> tuple[str, ...]:
    """The data files of the table's current snapshot."""
    return lake_reader.scan(lake_root, table).files


def row_counts(lake_root: str | Path) -> dict[str, int]:
    connection = connect(lake_root)
    try:
        return {
            table: connection.execute(f"select count(*) from {table}").fetchone()[0]
            for table in TABLES
        }
    finally:
        connection.close()


# --- the accounting identity: bronze = silver + quarantine + late + duplicates ------------------


@dataclass(frozen=True)
class DailyAccounting:
    """One ingestion date's records, matched record by record on (kafka_partition, kafka_offset):
    every bronze record must have exactly one silver, quarantine or late row, or be a duplicate
    (a record whose event_id silver already holds from another record)."""

    ingested_date: date
    bronze_record_count: int
    silver_event_count: int
    quarantined_record_count: int
    late_event_count: int
    duplicate_record_count: int
    # bronze records with no silver, quarantine or late row that are no duplicate either
    unaccounted_record_count: int
    # silver, quarantine and late rows ingested that day whose record is not in bronze
    rows_without_bronze_count: int
    unaccounted_examples: tuple[str, ...] = ()

    @property
    def accounted_record_count(self) -> int:
        return (
            self.silver_event_count
            + self.quarantined_record_count
            + self.late_event_count
            + self.duplicate_record_count
        )

    @property
    def is_balanced(self) -> bool:
        return (
            self.bronze_record_count == self.accounted_record_count
            and self.unaccounted_record_count == 0
            and self.rows_without_bronze_count == 0
        )

    def describe(self) -> str:
        verdict = "holds" if self.is_balanced else "BROKEN"
        line = (
            f"{self.ingested_date}: bronze {self.bronze_record_count} "
            f"{'=' if self.bronze_record_count == self.accounted_record_count else '!='} "
            f"silver {self.silver_event_count} + quarantined {self.quarantined_record_count} "
            f"+ late {self.late_event_count} + duplicates {self.duplicate_record_count} "
            f"(= {self.accounted_record_count}): {verdict}"
        )
        if self.unaccounted_record_count:
            line += (
                f"; {self.unaccounted_record_count} bronze record(s) with no silver, quarantine "
                f"or late row and no duplicate (partition:offset "
                f"{', '.join(self.unaccounted_examples)})"
            )
        if self.rows_without_bronze_count:
            line += (
                f"; {self.rows_without_bronze_count} silver/quarantine/late row(s) whose record "
                "is not in bronze"
            )
        return line

    @classmethod
    def empty(cls, ingested_date: date) -> DailyAccounting:
        return cls(ingested_date, 0, 0, 0, 0, 0, 0, 0)

    def as_record(self) -> dict:
        """JSON-friendly, for the XCom the quality task records."""
        return {
            **asdict(self),
            "ingested_date": self.ingested_date.isoformat(),
            "unaccounted_examples": list(self.unaccounted_examples),
            "is_balanced": self.is_balanced,
        }


_ACCOUNTING_SQL = """
with

bronze_in_scope as (
    select
        kafka_partition,
        kafka_offset,
        raw_payload,
        cast(dt as date) as ingested_date
    from bronze_events
    where cast(dt as date) between $start_date and $end_date and ingested_at < $ingested_before
),

lake_rows as (
    select kafka_partition, kafka_offset, 'silver' as lake_table from silver_events
    union all
    select kafka_partition, kafka_offset, 'quarantine' as lake_table from quarantine_events
    union all
    select kafka_partition, kafka_offset, 'late' as lake_table from late_events
),

lake_rows_per_record as (
    select
        kafka_partition,
        kafka_offset,
        count(*) filter (where lake_table = 'silver') as silver_row_count,
        count(*) filter (where lake_table = 'quarantine') as quarantine_row_count,
        count(*) filter (where lake_table = 'late') as late_row_count
    from lake_rows
    group by kafka_partition, kafka_offset
),

bronze_classified as (
    select
        bronze_in_scope.ingested_date,
        bronze_in_scope.kafka_partition,
        bronze_in_scope.kafka_offset,
        coalesce(lake_rows_per_record.silver_row_count, 0) as silver_row_count,
        coalesce(lake_rows_per_record.quarantine_row_count, 0) as quarantine_row_count,
        coalesce(lake_rows_per_record.late_row_count, 0) as late_row_count,
        lake_rows_per_record.kafka_offset is null as has_no_lake_row,
        coalesce(
            json_extract_string(
                case when json_valid(bronze_in_scope.raw_payload) then bronze_in_scope.raw_payload end,
                '$.event_id'
            ) in (select event_id from silver_events union all select event_id from late_events),
            false
        ) as is_known_event_id
    from bronze_in_scope
    left join lake_rows_per_record
        on
            bronze_in_scope.kafka_partition = lake_rows_per_record.kafka_partition
            and bronze_in_scope.kafka_offset = lake_rows_per_record.kafka_offset
)

select
    ingested_date,
    count(*) as bronze_record_count,
    sum(silver_row_count) as silver_event_count,
    sum(quarantine_row_count) as quarantined_record_count,
    sum(late_row_count) as late_event_count,
    count(*) filter (where has_no_lake_row and is_known_event_id) as duplicate_record_count,
    count(*) filter (where has_no_lake_row and not is_known_event_id)
        as unaccounted_record_count,
    (list(kafka_partition || ':' || kafka_offset order by kafka_partition, kafka_offset)
        filter (where has_no_lake_row and not is_known_event_id))[1:5] as unaccounted_examples
from bronze_classified
group by ingested_date
"""

_ROWS_WITHOUT_BRONZE_SQL = """
with

lake_rows as (
    select kafka_partition, kafka_offset, ingested_at from silver_events
    union all
    select kafka_partition, kafka_offset, ingested_at from quarantine_events
    union all
    select kafka_partition, kafka_offset, ingested_at from late_events
),

lake_rows_in_scope as (
    select kafka_partition, kafka_offset, cast(ingested_at as date) as ingested_date
    from lake_rows
    where
        cast(ingested_at as date) between $start_date and $end_date
        and ingested_at < $ingested_before
)

select ingested_date, count(*) as rows_without_bronze_count
from lake_rows_in_scope
where not exists (
    select 1
    from bronze_events
    where
        bronze_events.kafka_partition = lake_rows_in_scope.kafka_partition
        and bronze_events.kafka_offset = lake_rows_in_scope.kafka_offset
)
group by ingested_date
"""


def accounting(
    lake_root: str | Path,
    start_date: date = date.min,
    end_date: date = date.max,
    ingested_before: datetime | None = None,
) -> list[DailyAccounting]:
    """The accounting of each ingestion date in the range that has bronze records, record by
    record, over records ingested before `ingested_before` (a naive or UTC datetime; all when
    None). The Airflow quality check and the dashboard both read it from here."""
    connection = connect(lake_root)
    try:
        connection.execute("set TimeZone = 'UTC'")
        parameters = {
            "start_date": start_date,
            "end_date": end_date,
            "ingested_before": (ingested_before or datetime.max).replace(tzinfo=None),
        }
        counted = connection.execute(_ACCOUNTING_SQL, parameters).fetchall()
        without_bronze = dict(connection.execute(_ROWS_WITHOUT_BRONZE_SQL, parameters).fetchall())
    finally:
        connection.close()
    counted_by_date = {row[0]: row[1:] for row in counted}
    accounting_by_date = []
    for day in sorted(counted_by_date.keys() | without_bronze.keys()):
        bronze, silver, quarantined, late_count, duplicates, unaccounted, examples = (
            counted_by_date.get(day, (0, 0, 0, 0, 0, 0, []))
        )
        accounting_by_date.append(
            DailyAccounting(
                ingested_date=day,
                bronze_record_count=int(bronze),
                silver_event_count=int(silver),
                quarantined_record_count=int(quarantined),
                late_event_count=int(late_count),
                duplicate_record_count=int(duplicates),
                unaccounted_record_count=int(unaccounted),
                rows_without_bronze_count=int(without_bronze.get(day, 0)),
                unaccounted_examples=tuple(examples or ()),
            )
        )
    return accounting_by_date
