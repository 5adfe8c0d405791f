"""What loading and linting report: `file:line:col RULE message`, one line per finding. Every
finding is an error: `submit` deploys nothing while there is one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

RULES: dict[str, str] = {
    "FL001": "syntax error",
    "FL002": "Kafka source without watermark",
    "FL003": "deduplication without state TTL",
    "FL004": "updating query into an append-only sink",
    "FL005": "hard-coded connector option",
    "FL006": "lake table disagrees with the dbt source declaration, or states the contract wrong",
    "FL007": "unknown or malformed placeholder",
    "FL008": "file layout",
    "FL009": "unknown table or view",
}


@dataclass(frozen=True, order=True)
class Finding:
    """One problem; `str(finding)` is `file:line:col RULE message`."""

    path: str
    line: int
    col: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col} {self.rule} {self.message}"


def display(path: Path) -> str:
    """How a file is named in findings: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def format_findings(findings: Iterable[Finding]) -> str:
    return "\n".join(str(finding) for finding in findings)
