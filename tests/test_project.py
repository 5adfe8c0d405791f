"""The SQL project model (sqlcheck.project): rendering, splitting, layout and dependency order —
the one loader lint, plan, lineage and submit read flink_sql/ through."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlcheck.catalog import build_catalog
from sqlcheck.findings import Finding
from sqlcheck.lint import lint_project
from sqlcheck.project import Project, SqlError, job_names, load_project
from stack.config import load_config

SOURCE = """-- A source.
create table src (
    a string,
    b int,
    ts timestamp(3),
    watermark for ts as ts
) with (
    'connector' = 'kafka',
    'topic' = '${topic}'
);
"""
SINK = "-- A sink.\ncreate table snk (a string, n int) with ('connector' = 'blackhole');\n"
PARAMS = {"topic": "events", "group": "g"}


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def project_of(tmp_path: Path, files: dict[str, str], params=PARAMS) -> Project:
    base = {"tables/src.sql": SOURCE, "tables/snk.sql": SINK}
    return load_project(write(tmp_path, {**base, **files}), params)


def located(findings: list[Finding], root: Path) -> list[tuple[str, int, int, str]]:
    return [
        (Path(f.path).resolve().relative_to(root.resolve()).as_posix(), f.line, f.col, f.rule)
        for f in findings
    ]


# --- statements ------------------------------------------------------------------------------

CASE_JOB = """-- Job with a CASE inside its statement set.
set 'pipeline.name' = 'j';

execute statement set
begin

-- Labelled rows.
insert into snk (a, n)
select
    case when b > 0 then 'positive' when b < 0 then 'negative' else 'zero' end as a,
    case b when 1 then 1 end as n
from src;

insert into snk (a, n) select 'x;y -- not a comment', 2 from src;

end;
"""


def test_case_end_inside_a_statement_set_stays_one_statement(tmp_path):
    project = project_of(tmp_path, {"jobs/j.sql": CASE_JOB})
    assert project.problems == []
    job = project.job("j")
    assert [s.line for s in job.file.statements] == [2, 4]
    assert job.statement_set.sql.startswith("execute statement set")
    assert job.statement_set.sql.endswith("end")
    assert [(i.line, i.col) for i in job.inserts] == [(8, 1), (14, 1)]
    assert job.inserts[0].sql.endswith("from src")
    assert "else 'zero' end as a" in job.inserts[0].sql
    assert job.inserts[1].sql == "insert into snk (a, n) select 'x;y -- not a comment', 2 from src"
    assert job.sinks == ["snk"]
    assert lint_project(project) == []


def test_statements_start_after_their_comments_and_keep_quoted_semicolons(tmp_path):
    job_file = (
        "-- intent\n"
        "set 'a' = 'it''s; fine';\n"
        "\n"
        "execute statement set\n"
        "begin\n"
        "insert into snk select ';', 1 from src; -- trailing ; comment\n"
        "end;\n"
    )
    job = project_of(tmp_path, {"jobs/j.sql": job_file}).job("j")
    assert job.settings == {"a": "it's; fine"}
    assert [(s.line, s.col) for s in job.file.statements] == [(2, 1), (4, 1)]
    assert [i.sql for i in job.inserts] == ["insert into snk select ';', 1 from src"]


def test_a_statement_that_does_not_tokenize_is_an_error_at_its_line(tmp_path):
    project = project_of(tmp_path, {"views/v.sql": "create view v as\nselect 'oops from src;\n"})
    assert located(project.problems, tmp_path) == [("views/v.sql", 2, 8, "FL001")]
    assert "unterminated string literal" in project.problems[0].message


# --- placeholders ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("${Topic}", "unknown placeholder ${Topic} (did you mean ${topic}?)"),
        ("${topik}", "unknown placeholder ${topik}; known: group, topic"),
        ("${to-pic}", "malformed placeholder ${to-pic}"),
        ("${ topic }", "malformed placeholder ${ topic }"),
        ("${}", "malformed placeholder ${}"),
        ("${topic", "unterminated placeholder ${topic"),
    ],
)
def test_an_unknown_or_malformed_placeholder_is_an_error_at_its_file_line_col(
    tmp_path, written, message
):
    project = project_of(tmp_path, {"tables/src.sql": SOURCE.replace("${topic}", written)})
    (problem,) = project.problems
    assert located([problem], tmp_path) == [("tables/src.sql", 9, 16, "FL007")]
    assert problem.message.startswith(message)
    with pytest.raises(SqlError) as raised:
        project.job("anything")
    assert str(raised.value).startswith(f"{problem.path}:9:16 FL007 {message}")


def test_placeholders_in_comments_and_expressions_are_rendered_too(tmp_path):
    view = "-- reads ${topic}\ncreate view v as select a from src where b > ${limit};\n"
    project = project_of(tmp_path, {"views/v.sql": view}, {**PARAMS, "limit": "50"})
    statement = project.objects["v"].statement
    assert statement.sql == "create view v as select a from src where b > 50"
    assert project_of(tmp_path, {"views/v.sql": view}).problems[0].line == 2


def test_a_value_with_a_line_break_is_refused(tmp_path):
    project = project_of(tmp_path, {}, {**PARAMS, "topic": "a\nb"})
    assert [p.message for p in project.problems] == ["the value of ${topic} contains a line break"]


def test_positions_point_into_the_source_file_not_the_rendered_text(tmp_path):
    table = (
        "create table t (a string) with ('topic' = '${topic}', 'path' = '/x', 'p' = '${group}');\n"
    )
    project = project_of(tmp_path, {"tables/t.sql": table}, {**PARAMS, "topic": "a-long-topic"})
    findings = [f for f in lint_project(project) if f.rule == "FL005"]
    assert located(findings, tmp_path) == [("tables/t.sql", 1, 55, "FL005")]


# --- layout ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected", "message"),
    [
        (
            {"tables/two.sql": "create table two (x int);\n-- b\ncreate table b (x int);\n"},
            ("tables/two.sql", 3, 1),
            "a file in tables/ holds one statement, CREATE TABLE two; found 2",
        ),
        (
            {"tables/wrong.sql": "create table right_name (x int);"},
            ("tables/wrong.sql", 1, 1),
            "creates 'right_name'; name the file right_name.sql",
        ),
        (
            {"views/t.sql": "create table t (x int);"},
            ("views/t.sql", 1, 1),
            "a file in views/ holds CREATE VIEW t",
        ),
        (
            {"views/src.sql": "create view src as select 1 as x;"},
            ("views/src.sql", 1, 1),
            "src is also created in",
        ),
        (
            {"loose.sql": "create table loose (x int);"},
            ("loose.sql", 1, 1),
            "a .sql file belongs in functions/, tables/, views/ or jobs/",
        ),
        (
            {"jobs/j.sql": "set 'a' = 'b';\ninsert into snk select a, b from src;"},
            ("jobs/j.sql", 2, 1),
            "a job file holds `set 'key' = 'value';` lines and one EXECUTE STATEMENT SET",
        ),
        (
            {"jobs/j.sql": "set 'a' = 'b';\n"},
            ("jobs/j.sql", 1, 1),
            "found none",
        ),
        (
            {"jobs/j.sql": "execute statement set begin insert into nowhere select 1; end;"},
            ("jobs/j.sql", 1, 29),
            "INSERT INTO nowhere: no tables/nowhere.sql",
        ),
    ],
    ids=[
        "two-statements",
        "misnamed",
        "wrong-kind",
        "duplicate",
        "outside-folders",
        "job-with-insert",
        "job-without-set",
        "unknown-sink",
    ],
)
def test_layout_is_one_rule_and_an_error(tmp_path, files, expected, message):
    project = project_of(tmp_path, files)
    assert located(project.problems, tmp_path) == [
        (*expected, "FL009" if "INSERT" in message else "FL008")
    ]
    assert message in project.problems[0].message
    assert lint_project(project)[: len(project.problems)] == project.problems
    with pytest.raises(SqlError):
        project.job("j")


# --- dependency order ------------------------------------------------------------------------


def test_functions_come_before_the_tables_and_views_that_call_them(tmp_path):
    # The apostrophe in the comment must not hide the call after it; a name in a string is no
    # reference.
    project = load_project(
        write(
            tmp_path,
            {
                "functions/f.sql": "create temporary function f as 'F';",
                "functions/g.sql": "create temporary function g as 'G';",
                "tables/src.sql": (
                    "create table src (\n    -- the shop's raw value\n    a bytes,\n"
                    "    b as f(a)\n) with ();"
                ),
                "tables/snk.sql": "create table snk (b int) with ();",
                "views/v.sql": "create temporary view v as select g(b) as b, 'unused' as c from src;",
                "tables/unused.sql": "create table unused (f int) with ();",
                "jobs/j.sql": "execute statement set begin insert into snk select b from v; end;",
            },
        ),
        {},
    )
    job = project.job("j")
    assert [(o.kind, o.name) for o in job.ddl] == [
        ("table", "snk"),
        ("function", "g"),
        ("function", "f"),
        ("table", "src"),
        ("view", "v"),
    ]
    assert [s.sql for s in job.statements] == [
        *(o.statement.sql for o in job.ddl),
        job.statement_set.sql,
    ]
    assert [o.name for o in project.ordered(["v"])] == ["g", "f", "src", "v"]


def test_a_circular_reference_is_an_error(tmp_path):
    project = project_of(
        tmp_path,
        {
            "views/a.sql": "create view a as select * from b;",
            "views/b.sql": "create view b as select * from a;",
        },
    )
    assert located(project.problems, tmp_path) == [("views/a.sql", 1, 1, "FL009")]
    assert project.problems[0].message == "circular reference: a -> b -> a"


# --- the real project ------------------------------------------------------------------------


@pytest.mark.parametrize("job", job_names(load_config().sql_dir))
def test_every_job_loads_with_each_object_after_what_it_reads(job):
    config = load_config()
    project = load_project(config.sql_dir, config.sql_params(job))
    loaded = project.job(job)
    created: set[str] = set()
    for sql_object in loaded.ddl:
        assert sql_object.reads <= created, (
            f"{sql_object.name} is created before {sql_object.reads - created}"
        )
        created.add(sql_object.name)
    assert loaded.sinks, "a job writes somewhere"
    assert set(loaded.sinks) <= created
    assert "${" not in "".join(s.sql for s in loaded.statements)


def test_jobs_are_the_documented_ones():
    assert job_names(load_config().sql_dir) == ["bronze", "silver_gold"]


def test_an_unknown_job_names_the_file_it_expected(tmp_path):
    project = project_of(tmp_path, {"jobs/j.sql": CASE_JOB})
    with pytest.raises(SqlError, match=r"no job 'k': expected .*jobs/k\.sql \(jobs: j\)"):
        project.job("k")


def test_the_catalog_has_partition_keys_and_options_as_written(tmp_path):
    sink = (
        "-- A lake table.\ncreate table lake (a string, dt string) partitioned by (dt) with (\n"
        "    'connector' = 'filesystem', 'path' = '${root}/lake/a', 'x' = 'it''s'\n);\n"
    )
    project = project_of(tmp_path, {"tables/lake.sql": sink}, {**PARAMS, "root": "/data"})
    table = build_catalog(project).tables["lake"]
    assert table.partition_keys == ["dt"]
    assert [(o.key, o.value, o.source, o.templated) for o in table.options.values()] == [
        ("connector", "filesystem", "filesystem", False),
        ("path", "/data/lake/a", "${root}/lake/a", True),
        ("x", "it's", "it's", False),
    ]
    assert build_catalog(project).tables["src"].partition_keys == []
