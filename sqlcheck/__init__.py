"""Flink SQL tooling: a sqlglot dialect (``sqlcheck.dialect``), a linter (``sqlcheck.lint``) and
column lineage (``sqlcheck.lineage``) for the files under ``flink_sql/``."""

from sqlcheck.dialect import Flink, RenderError, Statement, parse_file, render
from sqlcheck.lint import Finding, lint_paths, main

__all__ = [
    "Finding",
    "Flink",
    "RenderError",
    "Statement",
    "lint_paths",
    "main",
    "parse_file",
    "render",
]
