"""`${name}` placeholders: how a SQL file is rendered from the config.

One rule wherever a file is read (lint, plan, lineage, submit): every `${` in the text starts a
placeholder (in a string, an expression or a comment alike), its name is letters, digits and `_`,
and it must have a value. Anything else is reported at its file:line:col and left in the text.
Inside a string literal a value's quotes are doubled, so `'${path}'` is the value, whatever it
holds. Values hold no newline, so a rendered file has the source's line numbers; `Rendered` maps
rendered offsets back to source offsets for exact columns too.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# `${` up to the closing brace on the same line; the body is checked separately so that a
# malformed placeholder is reported, not skipped.
PLACEHOLDER = re.compile(r"\$\{([^}\n]*)(\}?)")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class PlaceholderProblem:
    offset: int  # where the `${` starts in the source
    message: str


@dataclass(frozen=True)
class Rendered:
    """A file's source text, its rendered text, and where each substitution happened."""

    source: str
    text: str
    # (rendered start, rendered end, source start, source end) of each substitution, in order
    substitutions: tuple[tuple[int, int, int, int], ...] = ()

    def source_offset(self, offset: int) -> int:
        """The source offset of a rendered offset; inside a substituted value, the `${`."""
        index = bisect.bisect_right([s[0] for s in self.substitutions], offset) - 1
        if index < 0:
            return offset
        _, end, source_start, source_end = self.substitutions[index]
        if offset < end:
            return source_start
        return source_end + offset - end

    def source_position(self, offset: int) -> tuple[int, int]:
        """1-based (line, col) in the source of a rendered offset."""
        return line_col(self.source, self.source_offset(offset))

    def placeholders_on_line(self, line: int) -> bool:
        return any(line_col(self.source, s[2])[0] == line for s in self.substitutions)


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of character `offset` in `text`."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def render(
    source: str, params: Mapping[str, str], in_string: Callable[[int], bool] = lambda _: False
) -> tuple[Rendered, list[PlaceholderProblem]]:
    """Substitute every well-formed, known `${name}`; report the others (left as written).
    `in_string(offset)`: whether the placeholder at that source offset is inside a '...' literal."""
    pieces: list[str] = []
    substitutions: list[tuple[int, int, int, int]] = []
    problems: list[PlaceholderProblem] = []
    rendered_length = 0
    last = 0
    for match in PLACEHOLDER.finditer(source):
        body, closed = match.group(1), match.group(2)
        problem = _problem(body, closed, params)
        if problem:
            problems.append(PlaceholderProblem(match.start(), problem))
            continue
        value = str(params[body])
        if in_string(match.start()):
            value = value.replace("'", "''")
        pieces.append(source[last : match.start()])
        rendered_length += match.start() - last
        substitutions.append(
            (rendered_length, rendered_length + len(value), match.start(), match.end())
        )
        pieces.append(value)
        rendered_length += len(value)
        last = match.end()
    pieces.append(source[last:])
    return Rendered(source, "".join(pieces), tuple(substitutions)), problems


def _problem(body: str, closed: str, params: Mapping[str, str]) -> str | None:
    if not closed:
        return f"unterminated placeholder ${{{body}: a placeholder is ${{name}} on one line"
    if not NAME.fullmatch(body):
        return (
            f"malformed placeholder ${{{body}}}: a placeholder is ${{name}}, the name made of"
            " letters, digits and _"
        )
    if body not in params:
        alike = [name for name in params if name.lower() == body.lower()]
        hint = f" (did you mean ${{{alike[0]}}}?)" if alike else ""
        known = ", ".join(sorted(params)) or "none"
        return f"unknown placeholder ${{{body}}}{hint}; known: {known}"
    value = str(params[body])
    if "\n" in value or "\r" in value:
        return f"the value of ${{{body}}} contains a line break"
    return None
