"""Schema evolution of a lake table shipped as a SQL change: the deploy adds the DDL's new column
to the Iceberg table without rewriting a file, old rows read NULL in it, a snapshot from before
reads the old columns, and changes Iceberg cannot make in place are refused with file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from lake_fixture import DAY_1, DAY_2, event, write_table

from pipeline import lake_reader, lake_writer

REPO_SQL = Path(__file__).resolve().parents[1] / "flink_sql"
SILVER_DDL = Path("tables") / "silver_events.sql"


@pytest.fixture
def sql_dir(tmp_path) -> Path:
    copy = tmp_path / "flink_sql"
    shutil.copytree(REPO_SQL, copy)
    return copy


def edit_silver(sql_dir: Path, old: str, new: str) -> None:
    path = sql_dir / SILVER_DDL
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def silver(lake: Path, **pinned) -> duckdb.DuckDBPyRelation:
    table_scan = lake_reader.scan(lake, "silver_events", **pinned)
    return duckdb.sql(table_scan.select_sql())


def test_an_added_column_reads_null_in_old_files_and_filled_in_new_ones(tmp_path, sql_dir):
    lake = tmp_path / "lake"
    write_table(lake, "silver/events", [event("old", "page_view", f"{DAY_1} 10:00:00", "u1")])
    before = lake_reader.scan(lake, "silver_events")
    old_files = set(before.files)
    edit_silver(sql_dir, "    dt string\n", "    dt string,\n    coupon_code string\n")

    assert lake_writer.evolve_schemas(lake, sql_dir) == [
        "silver_events: added column coupon_code string"
    ]
    assert lake_writer.evolve_schemas(lake, sql_dir) == []  # nothing left to do
    with duckdb.connect() as connection:  # a new row, as the new DDL writes it
        connection.execute(
            f"create table new_rows as select * replace ('new' as event_id, '{DAY_2}' as dt), "
            f"'SAVE10' as coupon_code from ({before.select_sql()})"
        )
        lake_writer.append(
            lake, "silver_events", connection, "select * from new_rows", sql_dir=sql_dir
        )

    now = lake_reader.scan(lake, "silver_events")
    assert old_files < set(now.files)  # the old file is read as it is, not rewritten
    rows = silver(lake).project("event_id, coupon_code, dt").order("event_id").fetchall()
    assert rows == [("new", "SAVE10", DAY_2), ("old", None, DAY_1)]
    then = silver(lake, snapshot_id=before.snapshot_id)
    assert "coupon_code" not in then.columns and then.project("event_id").fetchall() == [("old",)]


def test_a_widened_type_is_changed_in_place(tmp_path, sql_dir):
    lake = tmp_path / "lake"
    write_table(lake, "silver/events", [event("old", "page_view", f"{DAY_1} 10:00:00", "u1")])
    edit_silver(sql_dir, "    quantity int,\n", "    quantity bigint,\n")
    assert lake_writer.evolve_schemas(lake, sql_dir) == [
        "silver_events: widened column quantity to long"
    ]
    assert silver(lake).project("typeof(quantity)").fetchall() == [("BIGINT",)]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    quantity int,\n", "", "silver_events has no column quantity, which the lake table"),
        ("    quantity int,\n", "    items int,\n", "silver_events has no column quantity"),
        (
            "    kafka_offset bigint,\n",
            "    kafka_offset int,\n",
            "kafka_offset is INT in the DDL but long",
        ),
    ],
    ids=["dropped", "renamed", "narrowed"],
)
def test_changes_iceberg_cannot_make_in_place_are_refused_with_file_and_line(
    tmp_path, sql_dir, old, new, message
):
    lake = tmp_path / "lake"
    write_table(lake, "silver/events", [event("old", "page_view", f"{DAY_1} 10:00:00", "u1")])
    edit_silver(sql_dir, old, new)
    with pytest.raises(lake_writer.SchemaEvolutionError, match=message) as refused:
        lake_writer.evolve_schemas(lake, sql_dir)
    assert str(SILVER_DDL) in str(refused.value)
    assert "coupon" not in str(lake_reader.scan(lake, "silver_events").columns)


def test_a_table_no_job_has_created_yet_is_left_to_the_job(tmp_path, sql_dir):
    edit_silver(sql_dir, "    dt string\n", "    dt string,\n    coupon_code string\n")
    assert lake_writer.evolve_schemas(tmp_path / "lake", sql_dir) == []
