"""Flink SQL tooling for `flink_sql/`: a sqlglot dialect (`sqlcheck.dialect`), the project model
every command reads the SQL through (`sqlcheck.project`), the linter (`sqlcheck.lint`) and column
lineage (`sqlcheck.lineage`). The CLI is `jobs.py`."""
