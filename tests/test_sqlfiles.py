"""Loading flink_sql/: statement splitting, placeholders, per-job DDL in dependency order."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.sqlfiles import SqlFileError, job_names, load_job, render, split_statements
from stack.config import load_config


def test_statement_set_stays_whole_and_lines_are_kept():
    text = (
        "-- intent\n"
        "set 'a' = 'b';\n"
        "\n"
        "execute statement set\n"
        "begin\n"
        "insert into t select ';' from s;\n"
        "insert into u select 1 from s; -- trailing ; comment\n"
        "end;\n"
    )
    statements = split_statements(text, Path("job.sql"))
    assert [s.line for s in statements] == [2, 4]
    assert statements[0].sql == "set 'a' = 'b'"
    assert statements[1].sql.startswith("execute statement set")
    assert statements[1].sql.endswith("end")


def test_unknown_placeholder_names_file_and_line():
    with pytest.raises(SqlFileError, match=r"x\.sql:3: unknown placeholder \$\{nope\}"):
        render("a\nb\n'${nope}'", {"known": "1"}, Path("x.sql"))


def test_unterminated_quote_names_its_line():
    with pytest.raises(SqlFileError, match=r"x\.sql:2: unterminated ' quote"):
        split_statements("select 1;\nselect 'oops", Path("x.sql"))


@pytest.mark.parametrize("job", job_names())
def test_every_job_loads_with_its_views_after_what_they_read(job):
    loaded = load_job(job, load_config().sql_params(job))
    seen: set[str] = set()
    names = {o.name for o in loaded.ddl}
    for sql_object in loaded.ddl:
        if sql_object.kind == "view":
            body = sql_object.statement.sql.lower()
            for other in names - {sql_object.name}:
                if f" {other}" in body or f"table {other}" in body:
                    assert other in seen, f"{sql_object.name} is created before {other}"
        seen.add(sql_object.name)
    assert loaded.sinks, "a job writes somewhere"
    assert set(loaded.sinks) <= names
    assert "${" not in "".join(o.statement.sql for o in loaded.ddl)


def test_jobs_are_the_documented_ones():
    assert job_names() == ["bronze", "silver_gold"]


def test_silver_gold_bounds_its_deduplication_state():
    job = load_job("silver_gold", load_config().sql_params("silver_gold"))
    assert job.settings["table.exec.state.ttl"] == load_config().dedup_state_ttl
    assert job.pipeline_name == "clickstream: silver + gold"


def test_file_must_be_named_for_its_object(tmp_path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "views").mkdir()
    (tmp_path / "jobs").mkdir()
    (tmp_path / "tables" / "wrong.sql").write_text("create table right_name (a int) with ();")
    (tmp_path / "jobs" / "j.sql").write_text(
        "execute statement set begin insert into right_name select 1; end;"
    )
    with pytest.raises(SqlFileError, match=r"wrong\.sql:1: creates 'right_name'"):
        load_job("j", {}, root=tmp_path)


def test_functions_come_before_the_tables_and_views_that_call_them(tmp_path):
    for folder in ("functions", "tables", "views", "jobs"):
        (tmp_path / folder).mkdir()
    (tmp_path / "functions" / "f.sql").write_text("create temporary function f as 'F';")
    (tmp_path / "functions" / "g.sql").write_text("create temporary function g as 'G';")
    # The apostrophe in the comment must not hide the call after it.
    (tmp_path / "tables" / "src.sql").write_text(
        "create table src (\n    -- the shop's raw value\n    a bytes,\n    b as f(a)\n) with ();"
    )
    (tmp_path / "tables" / "snk.sql").write_text("create table snk (b int) with ();")
    (tmp_path / "views" / "v.sql").write_text(
        "create temporary view v as select g(b) as b, '-- not f' as c from src;"
    )
    (tmp_path / "tables" / "unused.sql").write_text("create table unused (f int) with ();")
    (tmp_path / "jobs" / "j.sql").write_text(
        "execute statement set begin insert into snk select b from v; end;"
    )
    job = load_job("j", {}, root=tmp_path)
    assert [(o.kind, o.name) for o in job.ddl] == [
        ("table", "snk"),
        ("function", "g"),
        ("function", "f"),
        ("table", "src"),
        ("view", "v"),
    ]
