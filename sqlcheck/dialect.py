"""A Flink SQL dialect for sqlglot: tokenizer, parser, generator, and statement splitting.

Importing this module registers the dialect under the name ``"flink"``, so
``sqlglot.parse_one(sql, read="flink")`` works once ``sqlcheck.dialect`` is imported.

The dialect covers the Flink SQL we write: DDL with computed,
metadata and watermark columns, ``WITH ('k' = 'v')`` connector options, window table-valued
functions, JSON functions with their ``RETURNING``/``ON ERROR`` clauses, ``SET`` and
``EXECUTE STATEMENT SET BEGIN ... END``. Generation aims at valid Flink SQL that parses back to an
equal tree.
"""

from __future__ import annotations

import re
import typing as t
from collections.abc import Mapping

from sqlglot import exp, generator, parser, tokens
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

__all__ = [
    "Descriptor",
    "Flink",
    "FlinkSyntaxError",
    "JSONExistsFlink",
    "JSONQueryFlink",
    "MetadataColumnConstraint",
    "StatementSet",
    "TableArgument",
    "TemplateParameter",
    "WindowTVF",
    "generate",
    "parse_one",
    "parse_tokens",
    "split_tokens",
    "tokenize",
]

DIALECT_NAME = "flink"
WINDOW_TVFS = ("TUMBLE", "HOP", "CUMULATE", "SESSION")


# --------------------------------------------------------------------------------------------
# Expression nodes for Flink-only syntax
# --------------------------------------------------------------------------------------------


class MetadataColumnConstraint(exp.Expression, exp.ColumnConstraintKind):
    """``METADATA [FROM 'key'] [VIRTUAL]`` on a column definition."""

    arg_types: t.ClassVar = {"this": False, "virtual": False}


class TableArgument(exp.Expression):
    """``TABLE name [PARTITION BY cols]`` as the data argument of a window TVF."""

    arg_types: t.ClassVar = {"this": True, "partition_by": False}


class Descriptor(exp.Expression):
    """``DESCRIPTOR(col, ...)`` naming the time attribute of a window TVF."""

    arg_types: t.ClassVar = {"expressions": True}


class WindowTVF(exp.Expression, exp.Func):
    """``TUMBLE``/``HOP``/``CUMULATE``/``SESSION`` called with a ``TABLE`` argument.

    ``this`` is the upper-case function name, ``expressions`` the arguments (possibly ``Kwarg``
    for named arguments).
    """

    arg_types: t.ClassVar = {"this": True, "expressions": True}

    @property
    def kind(self) -> str:
        return str(self.this).upper()

    def _arg(self, position: int, name: str) -> exp.Expr | None:
        for arg in self.expressions:
            if isinstance(arg, exp.Kwarg) and arg.this.name.upper() == name:
                return arg.expression
        positional = [a for a in self.expressions if not isinstance(a, exp.Kwarg)]
        return positional[position] if position < len(positional) else None

    @property
    def table(self) -> exp.Table | None:
        """The windowed input relation."""
        arg = self._arg(0, "DATA")
        return arg.this if isinstance(arg, TableArgument) else None

    @property
    def time_columns(self) -> list[exp.Expr]:
        arg = self._arg(1, "TIMECOL")
        return list(arg.expressions) if isinstance(arg, Descriptor) else []


class RawHint(exp.Expression):
    """A ``/*+ ... */`` hint kept verbatim (query hints and dynamic table options)."""

    arg_types: t.ClassVar = {"this": True}


class StatementSet(exp.Expression):
    """``EXECUTE STATEMENT SET BEGIN <insert>; ... END``."""

    arg_types: t.ClassVar = {"expressions": True}


class ExecuteStatement(exp.Expression):
    """``EXECUTE <insert>`` (single-statement form)."""

    arg_types: t.ClassVar = {"this": True}


class TemplateParameter(exp.Expression, exp.Condition):
    """An unrendered ``${name}`` placeholder outside string literals."""

    arg_types: t.ClassVar = {"this": True}


class JSONQueryFlink(exp.Expression, exp.Func):
    """``JSON_QUERY(value, path [RETURNING type] [wrapper] [x ON EMPTY] [x ON ERROR])``."""

    arg_types: t.ClassVar = {
        "this": True,
        "path": True,
        "returning": False,
        "wrapper": False,
        "on_empty": False,
        "on_error": False,
    }


class JSONExistsFlink(exp.Expression, exp.Func):
    """``JSON_EXISTS(value, path [{TRUE|FALSE|UNKNOWN|ERROR} ON ERROR])``."""

    arg_types: t.ClassVar = {"this": True, "path": True, "on_error": False}


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------


class FlinkTokenizer(tokens.Tokenizer):
    QUOTES: t.ClassVar = ["'"]
    IDENTIFIERS: t.ClassVar = ["`"]
    STRING_ESCAPES: t.ClassVar = ["'"]
    # Flink has no backslash escapes in string literals.
    KEYWORDS: t.ClassVar = {
        **tokens.Tokenizer.KEYWORDS,
        "ROW": TokenType.STRUCT,
        "STRING": TokenType.TEXT,
        "TIMESTAMP_LTZ": TokenType.TIMESTAMPLTZ,
    }
    # `/*+ ... */` right after a table name is a table hint (dynamic table options).
    TOKENS_PRECEDING_HINT: t.ClassVar = {
        *tokens.Tokenizer.TOKENS_PRECEDING_HINT,
        TokenType.VAR,
        TokenType.IDENTIFIER,
    }
    SINGLE_TOKENS: t.ClassVar = {**tokens.Tokenizer.SINGLE_TOKENS, "$": TokenType.PARAMETER}
    COMMANDS: t.ClassVar = tokens.Tokenizer.COMMANDS - {TokenType.EXECUTE}


# --------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------

_FRACTION_RE = re.compile(r":\d\d\.(\d+)")

# Functions whose sqlglot-typed counterparts do not regenerate as the Flink function (e.g. they
# reinterpret Java date-format patterns); Flink keeps them as plain calls.
_ANONYMOUS_FUNCTIONS = {
    "DATE_FORMAT",
    "TO_TIMESTAMP",
    "TO_TIMESTAMP_LTZ",
    "TO_DATE",
    "UNIX_TIMESTAMP",
    "FROM_UNIXTIME",
    "CONVERT_TZ",
    "DATE_ADD",
    "DATE_SUB",
    "DATEDIFF",
    "PARSE_URL",
    "REGEXP_EXTRACT",
    "REGEXP_REPLACE",
    "REGEXP",
    "SPLIT_INDEX",
    "STR_TO_MAP",
    "LOCATE",
    "INSTR",
    "IF",
    "IFNULL",
    "NVL",
    "DECODE",
    "ENCODE",
    "LOG",
    "LOG10",
    "LOG2",
    "TRUNCATE",
    "CHAR_LENGTH",
    "CHARACTER_LENGTH",
    "LENGTH",
    "CARDINALITY",
    "ELEMENT",
    "JSON_STRING",
    "LISTAGG",
    "FIRST_VALUE",
    "LAST_VALUE",
    "CONCAT_WS",
    "LPAD",
    "RPAD",
    "LEFT",
    "RIGHT",
    "REPEAT",
    "REVERSE",
    "SPLIT",
    "HASH_CODE",
    "MD5",
    "SHA1",
    "SHA2",
    "SHA256",
    "UUID",
    "RAND",
    "RAND_INTEGER",
    "NOW",
    "CURRENT_ROW_TIMESTAMP",
    "DAYOFWEEK",
    "DAYOFMONTH",
    "DAYOFYEAR",
    "WEEK",
    "QUARTER",
    "YEAR",
    "MONTH",
    "DAY",
    "HOUR",
    "MINUTE",
    "SECOND",
    "ARRAY_CONTAINS",
    "ARRAY_DISTINCT",
    "ARRAY_JOIN",
    "ARRAY_SLICE",
    "ARRAY_AGG",
    "COLLECT",
}


def _without(functions: Mapping[str, t.Any], names: t.Iterable[str]) -> dict[str, t.Any]:
    drop = set(names)
    return {k: v for k, v in functions.items() if k not in drop}


class FlinkParser(parser.Parser):
    FUNCTIONS: t.ClassVar = {
        **_without(parser.Parser.FUNCTIONS, _ANONYMOUS_FUNCTIONS),
        "ROW": exp.Struct.from_arg_list,
    }

    FUNCTION_PARSERS: t.ClassVar = {
        **_without(parser.Parser.FUNCTION_PARSERS, _ANONYMOUS_FUNCTIONS),
        "JSON_VALUE": lambda self: self._parse_json_value(json_path=False),
        "JSON_QUERY": lambda self: self._parse_flink_json_query(),
        "JSON_EXISTS": lambda self: self._parse_flink_json_exists(),
        "TIMESTAMPDIFF": lambda self: self._parse_unit_function("TIMESTAMPDIFF"),
        "TIMESTAMPADD": lambda self: self._parse_unit_function("TIMESTAMPADD"),
        **{name: (lambda self, _n=name: self._parse_window_tvf(_n)) for name in WINDOW_TVFS},
    }

    CONSTRAINT_PARSERS: t.ClassVar = {
        **parser.Parser.CONSTRAINT_PARSERS,
        "METADATA": lambda self: self._parse_metadata_constraint(),
        "WATERMARK": lambda self: self._parse_watermark(),
    }

    FUNC_TOKENS: t.ClassVar = {*parser.Parser.FUNC_TOKENS, TokenType.SESSION}

    SCHEMA_UNNAMED_CONSTRAINTS: t.ClassVar = {
        *parser.Parser.SCHEMA_UNNAMED_CONSTRAINTS,
        "WATERMARK",
    }

    STATEMENT_PARSERS: t.ClassVar = {
        **parser.Parser.STATEMENT_PARSERS,
        TokenType.EXECUTE: lambda self: self._parse_flink_execute(),
    }

    PLACEHOLDER_PARSERS: t.ClassVar = {
        **parser.Parser.PLACEHOLDER_PARSERS,
        TokenType.PARAMETER: lambda self: self._parse_template_parameter(),
    }

    TYPE_LITERAL_PARSERS: t.ClassVar = {
        **parser.Parser.TYPE_LITERAL_PARSERS,
        exp.DType.TIMESTAMP: lambda self, this, to: self._parse_temporal_literal(this, to),
        exp.DType.TIMESTAMPLTZ: lambda self, this, to: self._parse_temporal_literal(this, to),
        exp.DType.TIME: lambda self, this, to: self._parse_temporal_literal(this, to),
    }

    # --- statement splitting: keep `EXECUTE STATEMENT SET BEGIN ...; ...; END` in one chunk ---

    def _parse(
        self,
        parse_method: t.Callable[[parser.Parser], exp.Expr | None],
        raw_tokens: list[Token],
        sql: str | None = None,
    ) -> list[exp.Expr | None]:
        # Same as the base class, except that semicolons inside a statement set do not split.
        self.reset()
        self.sql = sql or ""
        self._chunks = split_tokens(raw_tokens) or [[]]
        return self._parse_batch_statements(parse_method=parse_method, sep_first_statement=False)

    # --- positions: remember where INSERT / CREATE start, for precise findings ---

    def _parse_insert(self) -> exp.Expr:
        start = self._prev
        node = super()._parse_insert()
        if start is not None and isinstance(node, exp.Expr):
            node.update_positions(start)
        return node

    def _parse_create(self) -> exp.Expr:
        start = self._prev
        node = super()._parse_create()
        if start is not None and isinstance(node, exp.Expr):
            node.update_positions(start)
        return node

    def _parse_as_command(self, start: Token) -> exp.Command:
        # sqlglot turns statements it cannot parse into opaque commands; for Flink files that
        # hides real syntax errors, so report the first token that could not be consumed.
        self.raise_error("Invalid expression / Unexpected token", self._curr or self._prev)
        return super()._parse_as_command(start)

    # --- hints ---

    def _parse_hint(self) -> exp.Hint | None:
        if self._match(TokenType.HINT) and self._prev_comments:
            raw = self._prev_comments[0].strip()
            self._prev_comments = None
            # built directly: self.expression() would also attach the hint text as a comment
            return exp.Hint(expressions=[RawHint(this=raw)])
        return None

    def _parse_table_hints(self) -> list[exp.Expr] | None:
        hints: list[exp.Expr] = []
        while self._match(TokenType.HINT):
            for comment in self._prev_comments or []:
                hints.append(RawHint(this=comment.strip()))
            self._prev_comments = None
        return hints or None

    def _parse_table(self, *args: t.Any, **kwargs: t.Any) -> exp.Expr | None:
        table = super()._parse_table(*args, **kwargs)
        # Flink puts dynamic options before the alias: `t /*+ OPTIONS(...) */ AS x`.
        if (
            isinstance(table, exp.Table)
            and table.args.get("hints")
            and not table.args.get("alias")
            and not kwargs.get("schema")
        ):
            alias = self._parse_table_alias()
            if alias:
                table.set("alias", alias)
        return table

    # --- DDL ---

    def _parse_metadata_constraint(self) -> MetadataColumnConstraint:
        key = self._parse_string() if self._match(TokenType.FROM) else None
        virtual = self._match_text_seq("VIRTUAL")
        return self.expression(MetadataColumnConstraint(this=key, virtual=virtual or None))

    def _parse_watermark(self) -> exp.WatermarkColumnConstraint:
        if not self._match(TokenType.FOR):
            self.raise_error("Expecting FOR after WATERMARK")
        column = self._parse_column()
        if not self._match(TokenType.ALIAS):
            self.raise_error("Expecting AS in WATERMARK definition")
        return self.expression(
            exp.WatermarkColumnConstraint(this=column, expression=self._parse_disjunction())
        )

    def _parse_temporal_literal(self, this: exp.Expr, to: exp.DataType) -> exp.Cast:
        # TIMESTAMP '... 00:00:00.123' has the precision of its fraction (0 without one); keep it
        # explicit so the regenerated literal has the same type.
        if not to.expressions and this.is_string:
            match = _FRACTION_RE.search(this.name)
            digits = len(match.group(1)) if match else 0
            to.set("expressions", [exp.DataTypeParam(this=exp.Literal.number(digits))])
        return self.expression(exp.Cast(this=this, to=to))

    # --- statements ---

    def _parse_flink_execute(self) -> exp.Expr:
        if self._match_text_seq("STATEMENT", "SET"):
            if not self._match(TokenType.BEGIN):
                self.raise_error("Expecting BEGIN after EXECUTE STATEMENT SET")
            statements: list[exp.Expr] = []
            while self._curr and not self._match(TokenType.END):
                if self._match(TokenType.SEMICOLON):
                    continue
                statement = self._parse_statement()
                if statement is None:
                    self.raise_error("Expecting a statement inside the statement set")
                    break
                statements.append(statement)
                if not self._match(TokenType.SEMICOLON) and not self._match(
                    TokenType.END, advance=False
                ):
                    self.raise_error("Expecting ; after a statement in the statement set")
                    break
            else:
                if not self._prev or self._prev.token_type != TokenType.END:
                    self.raise_error("Expecting END to close EXECUTE STATEMENT SET")
            return self.expression(StatementSet(expressions=statements))
        statement = self._parse_statement()
        if statement is None:
            self.raise_error("Expecting a statement after EXECUTE")
        return self.expression(ExecuteStatement(this=statement))

    def _parse_template_parameter(self) -> exp.Expr | None:
        if not self._match(TokenType.L_BRACE):
            return None
        name = self._parse_var(any_token=True)
        if not name or not self._match(TokenType.R_BRACE):
            self.raise_error("Expecting ${name}")
        return self.expression(TemplateParameter(this=name))

    # --- functions ---

    def _parse_unit_function(self, name: str) -> exp.Anonymous:
        unit = self._parse_var(any_token=True, upper=True)
        args: list[exp.Expr] = [unit] if unit else []
        while self._match(TokenType.COMMA):
            arg = self._parse_disjunction()
            if arg:
                args.append(arg)
        return self.expression(exp.Anonymous(this=name, expressions=args))

    def _parse_window_tvf(self, name: str) -> exp.Expr:
        args: list[exp.Expr] = []
        saw_table = False
        while True:
            arg = self._parse_tvf_argument()
            if arg is None:
                break
            saw_table = saw_table or bool(arg.find(TableArgument))
            args.append(arg)
            if not self._match(TokenType.COMMA):
                break
        if saw_table:
            return self.expression(WindowTVF(this=name, expressions=args))
        # Legacy group-window function, e.g. GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE).
        return self.expression(exp.Anonymous(this=name, expressions=args))

    def _parse_tvf_argument(self) -> exp.Expr | None:
        if self._curr and self._next and self._next.token_type == TokenType.FARROW:
            key = self._parse_var(any_token=True)
            self._match(TokenType.FARROW)
            value = self._parse_tvf_value()
            return self.expression(exp.Kwarg(this=key, expression=value))
        return self._parse_tvf_value()

    def _parse_tvf_value(self) -> exp.Expr | None:
        if self._match(TokenType.TABLE):
            table = self._parse_table_parts()
            partition_by = None
            if self._match(TokenType.PARTITION_BY) or self._match_text_seq("PARTITION", "BY"):
                if self._match(TokenType.L_PAREN, advance=False):
                    partition_by = self._parse_wrapped_csv(self._parse_column)
                else:
                    partition_by = [self._parse_column()]
            return self.expression(TableArgument(this=table, partition_by=partition_by))
        if self._match_text_seq("DESCRIPTOR"):
            columns = self._parse_wrapped_csv(self._parse_column)
            return self.expression(Descriptor(expressions=columns))
        return self._parse_disjunction()

    def _parse_flink_json_query(self) -> JSONQueryFlink:
        this = self._parse_bitwise()
        self._match(TokenType.COMMA)
        path = self._parse_bitwise()
        returning = self._parse_types() if self._match(TokenType.RETURNING) else None
        wrapper = None
        if self._match_texts(("WITHOUT", "WITH")):
            words = [self._prev.text.upper()]
            while self._match_texts(("CONDITIONAL", "UNCONDITIONAL", "ARRAY")):
                words.append(self._prev.text.upper())
            if not self._match_text_seq("WRAPPER"):
                self.raise_error("Expecting WRAPPER")
            wrapper = " ".join([*words, "WRAPPER"])
        on_empty = self._parse_json_behaviour("EMPTY", _JSON_QUERY_BEHAVIOURS)
        on_error = self._parse_json_behaviour("ERROR", _JSON_QUERY_BEHAVIOURS)
        return self.expression(
            JSONQueryFlink(
                this=this,
                path=path,
                returning=returning,
                wrapper=wrapper,
                on_empty=on_empty,
                on_error=on_error,
            )
        )

    def _parse_flink_json_exists(self) -> JSONExistsFlink:
        this = self._parse_bitwise()
        self._match(TokenType.COMMA)
        path = self._parse_bitwise()
        on_error = self._parse_json_behaviour("ERROR", _JSON_EXISTS_BEHAVIOURS)
        return self.expression(JSONExistsFlink(this=this, path=path, on_error=on_error))

    def _parse_json_behaviour(self, on: str, behaviours: tuple[tuple[str, ...], ...]) -> str | None:
        for words in behaviours:
            if self._match_text_seq(*words, "ON", on):
                return " ".join(words)
        return None


_JSON_QUERY_BEHAVIOURS: tuple[tuple[str, ...], ...] = (
    ("EMPTY", "ARRAY"),
    ("EMPTY", "OBJECT"),
    ("NULL",),
    ("ERROR",),
)
_JSON_EXISTS_BEHAVIOURS: tuple[tuple[str, ...], ...] = (
    ("TRUE",),
    ("FALSE",),
    ("UNKNOWN",),
    ("ERROR",),
)


def _is_statement_set_start(tokens_: list[Token], index: int) -> bool:
    words = [tok.text.upper() for tok in tokens_[index : index + 4]]
    return words == ["EXECUTE", "STATEMENT", "SET", "BEGIN"]


def split_tokens(raw_tokens: list[Token]) -> list[list[Token]]:
    """Split a token stream into statements at top-level semicolons.

    Semicolons between ``EXECUTE STATEMENT SET BEGIN`` and its ``END`` do not end a statement.
    Empty statements (``;;``) are dropped.
    """
    chunks: list[list[Token]] = []
    current: list[Token] = []
    in_set = False
    case_depth = 0
    for index, token in enumerate(raw_tokens):
        if not in_set and not current and _is_statement_set_start(raw_tokens, index):
            in_set = True
            case_depth = 0
        if in_set and token.token_type == TokenType.CASE:
            case_depth += 1
        if token.token_type == TokenType.SEMICOLON and not in_set:
            if current:
                if token.comments:
                    current[-1].comments.extend(token.comments)
                chunks.append(current)
            current = []
            continue
        if in_set and token.token_type == TokenType.END:
            if case_depth:
                case_depth -= 1
            else:
                in_set = False
        current.append(token)
    if current:
        chunks.append(current)
    return chunks


# --------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------


def _join_words(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def _partition_by_sql(gen: generator.Generator, columns: list[exp.Expr]) -> str | None:
    if not columns:
        return None
    if len(columns) == 1:
        return f"PARTITION BY {gen.sql(columns[0])}"
    return f"PARTITION BY ({', '.join(gen.sql(c) for c in columns)})"


class FlinkGenerator(generator.Generator):
    STRUCT_DELIMITER: t.ClassVar = ("<", ">")
    WITH_PROPERTIES_PREFIX = "WITH"
    INTERVAL_ALLOWS_PLURAL_FORM = True

    TYPE_MAPPING: t.ClassVar = {
        **generator.Generator.TYPE_MAPPING,
        exp.DType.TEXT: "STRING",
        exp.DType.TIMESTAMPLTZ: "TIMESTAMP_LTZ",
        exp.DType.STRUCT: "ROW",
    }

    PROPERTIES_LOCATION: t.ClassVar = {
        **generator.Generator.PROPERTIES_LOCATION,
        exp.PartitionedByProperty: exp.Properties.Location.POST_SCHEMA,
        exp.SchemaCommentProperty: exp.Properties.Location.POST_SCHEMA,
        exp.Property: exp.Properties.Location.POST_WITH,
    }

    TRANSFORMS: t.ClassVar = {
        **generator.Generator.TRANSFORMS,
        exp.PartitionedByProperty: lambda self, e: f"PARTITIONED BY {self.sql(e, 'this')}",
        exp.Struct: lambda self, e: self.func("ROW", *e.expressions),
        exp.Array: lambda self, e: f"ARRAY[{self.expressions(e, flat=True)}]",
        exp.If: lambda self, e: self.func("IF", e.this, e.args.get("true"), e.args.get("false")),
        exp.ApproxDistinct: lambda self, e: self.func("APPROX_COUNT_DISTINCT", e.this),
        exp.CurrentTimestamp: lambda self, e: "CURRENT_TIMESTAMP",
        exp.CurrentTime: lambda self, e: "CURRENT_TIME",
        exp.SchemaCommentProperty: lambda self, e: f"COMMENT {self.sql(e, 'this')}",
        RawHint: lambda self, e: self.sql(e, "this"),
        MetadataColumnConstraint: lambda self, e: _join_words(
            "METADATA",
            f"FROM {self.sql(e, 'this')}" if e.args.get("this") else None,
            "VIRTUAL" if e.args.get("virtual") else None,
        ),
        TableArgument: lambda self, e: _join_words(
            f"TABLE {self.sql(e, 'this')}",
            _partition_by_sql(self, e.args.get("partition_by") or []),
        ),
        Descriptor: lambda self, e: self.func("DESCRIPTOR", *e.expressions),
        WindowTVF: lambda self, e: self.func(str(e.this).upper(), *e.expressions),
        TemplateParameter: lambda self, e: "${" + self.sql(e, "this") + "}",
        ExecuteStatement: lambda self, e: f"EXECUTE {self.sql(e, 'this')}",
        JSONExistsFlink: lambda self, e: self.func(
            "JSON_EXISTS",
            e.this,
            _join_words(
                self.sql(e, "path"),
                f"{e.args['on_error']} ON ERROR" if e.args.get("on_error") else None,
            ),
        ),
    }

    def property_sql(self, expression: exp.Property) -> str:
        if expression.__class__ is exp.Property:
            key = expression.this
            key_sql = (
                self.sql(key)
                if isinstance(key, exp.Literal)
                else self.sql(
                    exp.Literal.string(key.name if not isinstance(key, exp.Dot) else key.sql())
                )
            )
            return f"{key_sql} = {self.sql(expression, 'value')}"
        return super().property_sql(expression)

    def cast_sql(self, expression: exp.Cast, safe_prefix: str | None = None) -> str:
        literal = _temporal_literal_sql(self, expression)
        return literal or super().cast_sql(expression, safe_prefix)

    def statementset_sql(self, expression: StatementSet) -> str:
        sep = self.sep()
        body = "".join(f"{self.sql(stmt)};{sep}" for stmt in expression.expressions)
        return f"EXECUTE STATEMENT SET{sep}BEGIN{sep}{body}END"

    def jsonqueryflink_sql(self, expression: JSONQueryFlink) -> str:
        returning = self.sql(expression, "returning")
        tail = _join_words(
            self.sql(expression, "path"),
            f"RETURNING {returning}" if returning else None,
            expression.args.get("wrapper"),
            f"{expression.args['on_empty']} ON EMPTY" if expression.args.get("on_empty") else None,
            f"{expression.args['on_error']} ON ERROR" if expression.args.get("on_error") else None,
        )
        return self.func("JSON_QUERY", expression.this, tail)

    def not_sql(self, expression: exp.Not) -> str:
        # `x NOT IN (...)`, `x IS NOT NULL` etc. instead of `NOT x IN (...)`.
        inner = expression.this
        if isinstance(inner, exp.Is):
            return f"{self.sql(inner, 'this')} IS NOT {self.sql(inner, 'expression')}"
        if isinstance(inner, (exp.In, exp.Like, exp.ILike, exp.Between, exp.SimilarTo)):
            sql = self.sql(inner)
            this = self.sql(inner, "this")
            if sql.startswith(f"{this} ") and not inner.comments:
                return f"{this} NOT {sql[len(this) + 1 :]}"
        return super().not_sql(expression)

    def hint_sql(self, expression: exp.Hint) -> str:
        return f" /*+ {self.expressions(expression, flat=True)} */"

    def table_sql(self, expression: exp.Table, sep: str = " AS ") -> str:
        hints = expression.args.get("hints")
        if not hints:
            return super().table_sql(expression, sep)
        # Flink: `name /*+ OPTIONS(...) */ [AS alias]`
        plain = expression.copy()
        plain.set("hints", None)
        alias = plain.args.get("alias")
        plain.set("alias", None)
        hint_sql = " ".join(f"/*+ {self.sql(h)} */" for h in hints)
        alias_sql = f"{sep}{self.sql(alias)}" if alias else ""
        return f"{super().table_sql(plain, sep)} {hint_sql}{alias_sql}"

    def version_sql(self, expression: exp.Version) -> str:
        if expression.name == "TIMESTAMP" and expression.text("kind") == "AS OF":
            return f"FOR SYSTEM_TIME AS OF {self.sql(expression, 'expression')}"
        return super().version_sql(expression)

    def trim_sql(self, expression: exp.Trim) -> str:
        position = self.sql(expression, "position")
        chars = self.sql(expression, "expression")
        if not position and not chars:
            return self.func("TRIM", expression.this)
        head = " ".join(part for part in (position, chars) if part)
        return f"TRIM({head} FROM {self.sql(expression, 'this')})"

    def strposition_sql(self, expression: exp.StrPosition) -> str:
        if expression.args.get("position") or expression.args.get("occurrence"):
            return self.func(
                "LOCATE",
                expression.args.get("substr"),
                expression.this,
                expression.args.get("position"),
            )
        return f"POSITION({self.sql(expression, 'substr')} IN {self.sql(expression, 'this')})"

    def jsonkeyvalue_sql(self, expression: exp.JSONKeyValue) -> str:
        return f"KEY {self.sql(expression, 'this')} VALUE {self.sql(expression, 'expression')}"

    def properties_sql(self, expression: exp.Properties) -> str:
        # Flink: `[COMMENT ..] [PARTITIONED BY (..)] WITH (..) [LIKE source [(options)]]`
        likes = [p for p in expression.expressions if isinstance(p, exp.LikeProperty)]
        if not likes:
            return super().properties_sql(expression)
        rest = expression.copy()
        rest.set(
            "expressions", [p for p in rest.expressions if not isinstance(p, exp.LikeProperty)]
        )
        head = super().properties_sql(rest)
        like_sql = " ".join(self.sql(like) for like in likes)
        return f"{head} {like_sql}" if head else like_sql


FlinkGenerator.TRANSFORMS[StatementSet] = FlinkGenerator.statementset_sql
FlinkGenerator.WITH_SEPARATED_COMMENTS = (
    *generator.Generator.WITH_SEPARATED_COMMENTS,
    StatementSet,
    ExecuteStatement,
    exp.Set,
)
FlinkGenerator.TRANSFORMS[JSONQueryFlink] = FlinkGenerator.jsonqueryflink_sql

_TEMPORAL_LITERAL_TYPES = {
    exp.DType.DATE: "DATE",
    exp.DType.TIME: "TIME",
    exp.DType.TIMESTAMP: "TIMESTAMP",
    exp.DType.TIMESTAMPLTZ: "TIMESTAMP_LTZ",
}


def _temporal_literal_sql(gen: generator.Generator, cast: exp.Cast) -> str | None:
    """``CAST('..' AS TIMESTAMP(p))``, p matching the literal, is written ``TIMESTAMP '..'``."""
    value, to = cast.this, cast.to
    if cast.args.get("format") or not (isinstance(value, exp.Literal) and value.is_string):
        return None
    keyword = _TEMPORAL_LITERAL_TYPES.get(to.this) if isinstance(to.this, exp.DType) else None
    if keyword is None or keyword == "TIMESTAMP_LTZ":
        return None
    if keyword == "DATE":
        if to.expressions:
            return None
    else:
        match = _FRACTION_RE.search(value.name)
        digits = len(match.group(1)) if match else 0
        params = to.expressions
        if len(params) != 1 or params[0].name != str(digits):
            return None
    return f"{keyword} {gen.sql(value)}"


# --------------------------------------------------------------------------------------------
# Dialect
# --------------------------------------------------------------------------------------------


class Flink(Dialect):
    """Apache Flink SQL (the subset our pipelines use, see the module docstring)."""

    NORMALIZATION_STRATEGY = NormalizationStrategy.CASE_SENSITIVE
    INDEX_OFFSET = 1
    ON_CONDITION_EMPTY_BEFORE_ERROR = True

    Tokenizer = FlinkTokenizer
    Parser = FlinkParser
    Generator = FlinkGenerator


# --------------------------------------------------------------------------------------------
# Tokens and statements (files, placeholders and positions are sqlcheck.project's business)
# --------------------------------------------------------------------------------------------


class FlinkSyntaxError(ValueError):
    """Text that does not tokenize or parse; ``offset`` is where, in the text given."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


_TOKEN_ERROR_POS_RE = re.compile(r"from (\d+):(\d+)")


def tokenize(text: str) -> list[Token]:
    """Flink SQL tokens with offsets into ``text``; raises ``FlinkSyntaxError`` on failure."""
    try:
        return Flink().tokenize(text)
    except TokenError as error:
        message = str(error.__cause__ or error)
        match = _TOKEN_ERROR_POS_RE.search(message)
        if match is None:
            raise FlinkSyntaxError(message.split("\n")[0], 0) from error
        # the tokenizer reports "<line>:<char offset>" of the token start
        message = _TOKEN_ERROR_POS_RE.sub("", message).strip()
        if message.startswith("Missing '"):
            message = "unterminated string literal"
        elif message.startswith("Missing `"):
            message = "unterminated quoted identifier"
        raise FlinkSyntaxError(message, int(match.group(2))) from error


def parse_tokens(chunk: list[Token], text: str) -> exp.Expr:
    """Parse one statement's tokens (``split_tokens`` gives them); node positions are offsets
    into ``text``. Raises ``FlinkSyntaxError`` at the offending token."""
    try:
        trees = Flink().parser().parse(chunk, text)
    except ParseError as error:
        details = error.errors[0] if error.errors else {}
        message = str(details.get("description") or str(error).split(".")[0])
        line, col = details.get("line"), details.get("col")
        highlight = details.get("highlight") or ""
        if isinstance(line, int) and isinstance(col, int):
            # sqlglot reports the line and the column where the offending token ends
            start = sum(len(row) + 1 for row in text.split("\n")[: line - 1])
            width = len(highlight) if highlight and "\n" not in highlight else 1
            raise FlinkSyntaxError(message, start + max(0, col - width)) from error
        raise FlinkSyntaxError(message, chunk[-1].start) from error
    tree = next((tree for tree in trees if tree is not None), None)
    if tree is None:
        raise FlinkSyntaxError("empty statement", chunk[0].start if chunk else 0)
    return tree


def parse_one(sql: str) -> exp.Expr:
    """Parse exactly one Flink SQL statement."""
    chunks = split_tokens(tokenize(sql))
    if len(chunks) != 1:
        raise ValueError(f"expected one statement, got {len(chunks)}")
    return parse_tokens(chunks[0], sql)


def generate(expression: exp.Expr, pretty: bool = False) -> str:
    """Flink SQL for a tree."""
    return expression.sql(dialect=Flink, pretty=pretty)
