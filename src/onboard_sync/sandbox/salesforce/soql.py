"""A real parser and evaluator for the SOQL subset the Salesforce connector (and most integrations) use.

Grammar (keywords case-insensitive)::

    query      := SELECT item (',' item)* FROM name [WHERE expr] [ORDER BY order (',' order)*]
                  [LIMIT int] [OFFSET int]
    item       := field | '(' subquery ')'
    subquery   := SELECT field (',' field)* FROM name [WHERE expr] [ORDER BY order (',' order)*] [LIMIT int]
                                                   -- parent-to-child: FROM a child relationship name
    field      := name ('.' name)*                 -- child-to-parent fields: Account.Name, Owner.Email
    expr       := term (OR term)*
    term       := factor (AND factor)*
    factor     := NOT factor | '(' expr ')' | field op value | field [NOT] IN '(' value (',' value)* ')'
                  | field LIKE string
    op         := = | != | <> | < | > | <= | >=
    value      := 'string' | number | TRUE | FALSE | NULL | 2026-01-05 | 2026-01-05T09:30:00Z | …+00:00
    order      := field [ASC | DESC] [NULLS FIRST | NULLS LAST]

:func:`parse` raises :class:`SoqlError` (``MALFORMED_QUERY``) with Salesforce's caret-style message;
the backend checks names against its schema (``INVALID_FIELD`` / ``INVALID_TYPE``, a subquery's FROM
against the parent's child relationships). One level of subquery only: a subquery inside a subquery
(Salesforce allows a few levels from API 58.0) and OFFSET in a subquery are refused. :func:`matches`
(in :mod:`.soql_eval`, re-exported) evaluates a WHERE tree through a ``resolve(path)`` callback. Used by
:mod:`onboard_sync.sandbox.salesforce.backend`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "LIMIT",
    "OFFSET",
    "NULLS",
    "FIRST",
    "LAST",
    "TRUE",
    "FALSE",
    "NULL",
}
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
    | (?P<date>\d{4}-\d{2}-\d{2})
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<string>'(?:[^'\\]|\\.)*')
    | (?P<op><=|>=|!=|<>|=|<|>)
    | (?P<punct>[(),])
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "'": "'",
    '"': '"',
    "\\": "\\",
    "_": "\\_",
    "%": "\\%",
}


class SoqlError(ValueError):
    """A query Salesforce would refuse; ``code`` is the errorCode of the REST error body."""

    def __init__(self, message: str, code: str = "MALFORMED_QUERY") -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # datetime | date | number | string | op | punct | name | keyword | end
    text: str
    pos: int


@dataclass(frozen=True, slots=True)
class Comparison:
    field: str
    op: str  # = != < > <= >= IN NOT IN LIKE
    value: Any


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # AND | OR | NOT
    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Order:
    field: str
    descending: bool = False
    nulls_last: bool | None = None


@dataclass(frozen=True)
class Query:
    fields: tuple[str, ...]
    sobject: str
    where: Any = None
    order_by: tuple[Order, ...] = ()
    limit: int | None = None
    offset: int = 0
    where_fields: tuple[str, ...] = field(default=())
    subqueries: tuple[Query, ...] = field(default=())
    """Parent-to-child subqueries of the SELECT list, in order; their ``sobject`` is the relationship name."""


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            tokens.append(Token("end", "", pos))
            return tokens
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise SoqlError(_caret(text, pos, f"unexpected token: '{text[pos : pos + 10].split()[0]}'"))
        group = m.lastgroup or "name"
        value = m.group(group)
        kind = "keyword" if group == "name" and value.upper() in KEYWORDS else group
        tokens.append(Token(kind, value, m.start(group)))
        pos = m.end()


def _caret(text: str, pos: int, message: str) -> str:
    return f"\n{text}\n{' ' * pos}^\nERROR at Row:1:Column:{pos + 1}\n{message}"


def _unquote(raw: str) -> str:
    body = raw[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt not in _ESCAPES:
                raise SoqlError(f"Invalid string literal '{raw}'. Illegal character sequence '\\{nxt}'")
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _instant(text: str) -> datetime:
    norm = text.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", norm):
        norm = norm[:-2] + ":" + norm[-2:]
    return datetime.fromisoformat(norm).astimezone(UTC)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.where_fields: list[str] = []

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def fail(self, message: str | None = None) -> SoqlError:
        tok = self.tok
        shown = tok.text or "<end of query>"
        return SoqlError(_caret(self.text, tok.pos, message or f"unexpected token: '{shown}'"))

    def keyword(self, *words: str) -> str | None:
        if self.tok.kind == "keyword" and self.tok.text.upper() in words:
            word = self.tok.text.upper()
            self.i += 1
            return word
        return None

    def expect_keyword(self, word: str) -> None:
        if self.keyword(word) is None:
            raise self.fail()

    def punct(self, ch: str) -> bool:
        if self.tok.kind == "punct" and self.tok.text == ch:
            self.i += 1
            return True
        return False

    def name(self) -> str:
        if self.tok.kind != "name":
            raise self.fail()
        text = self.tok.text
        self.i += 1
        return text

    def parse(self) -> Query:
        query = self.query(nested=False)
        if self.tok.kind != "end":
            raise self.fail()
        return query

    def query(self, *, nested: bool) -> Query:
        """``SELECT … FROM …`` up to the end of the query, or of a subquery (``nested``: its ``)``)."""
        outer_where, self.where_fields = self.where_fields, []
        self.expect_keyword("SELECT")
        fields: list[str] = []
        subqueries: list[Query] = []
        while True:
            if self.punct("("):
                if nested:
                    raise self.fail("the sandbox supports one level of subquery: no subquery inside a subquery")
                subqueries.append(self.query(nested=True))
                if not self.punct(")"):
                    raise self.fail()
            else:
                fields.append(self.name())
            if not self.punct(","):
                break
        self.expect_keyword("FROM")
        sobject = self.name()
        where = None
        if self.keyword("WHERE"):
            where = self.expr()
        order: list[Order] = []
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            order.append(self.order())
            while self.punct(","):
                order.append(self.order())
        limit = offset = None
        if self.keyword("LIMIT"):
            limit = self.integer()
        if not nested and self.keyword("OFFSET"):
            offset = self.integer()
        where_fields, self.where_fields = tuple(self.where_fields), outer_where
        return Query(tuple(fields), sobject, where, tuple(order), limit, offset or 0, where_fields, tuple(subqueries))

    def integer(self) -> int:
        if self.tok.kind != "number" or not self.tok.text.isdigit():
            raise self.fail()
        value = int(self.tok.text)
        self.i += 1
        return value

    def order(self) -> Order:
        name = self.name()
        descending = self.keyword("ASC", "DESC") == "DESC"
        nulls_last = None
        if self.keyword("NULLS"):
            nulls_last = self.keyword("FIRST", "LAST") == "LAST"
        return Order(name, descending, nulls_last)

    def expr(self) -> Any:
        items = [self.term()]
        while self.keyword("OR"):
            items.append(self.term())
        return items[0] if len(items) == 1 else BoolOp("OR", tuple(items))

    def term(self) -> Any:
        items = [self.factor()]
        while self.keyword("AND"):
            items.append(self.factor())
        return items[0] if len(items) == 1 else BoolOp("AND", tuple(items))

    def factor(self) -> Any:
        if self.keyword("NOT"):
            return BoolOp("NOT", (self.factor(),))
        if self.punct("("):
            inner = self.expr()
            if not self.punct(")"):
                raise self.fail()
            return inner
        name = self.name()
        self.where_fields.append(name)
        if self.keyword("NOT"):
            self.expect_keyword("IN")
            return Comparison(name, "NOT IN", self.value_list())
        if self.keyword("IN"):
            return Comparison(name, "IN", self.value_list())
        if self.keyword("LIKE"):
            if self.tok.kind != "string":
                raise self.fail()
            return Comparison(name, "LIKE", self.value())
        if self.tok.kind != "op":
            raise self.fail()
        op = "!=" if self.tok.text == "<>" else self.tok.text
        self.i += 1
        return Comparison(name, op, self.value())

    def value_list(self) -> tuple[Any, ...]:
        if not self.punct("("):
            raise self.fail()
        values = [self.value()]
        while self.punct(","):
            values.append(self.value())
        if not self.punct(")"):
            raise self.fail()
        return tuple(values)

    def value(self) -> Any:
        tok = self.tok
        self.i += 1
        if tok.kind == "string":
            return _unquote(tok.text)
        if tok.kind == "number":
            return float(tok.text) if "." in tok.text else int(tok.text)
        if tok.kind == "date":
            return date.fromisoformat(tok.text)
        if tok.kind == "datetime":
            return _instant(tok.text)
        if tok.kind == "keyword" and tok.text.upper() in ("TRUE", "FALSE", "NULL"):
            return {"TRUE": True, "FALSE": False, "NULL": None}[tok.text.upper()]
        self.i -= 1
        raise self.fail()


def parse(text: str) -> Query:
    """Parse a SOQL query; raises :class:`SoqlError` (MALFORMED_QUERY) with a caret message."""
    return _Parser(text.strip()).parse()


from onboard_sync.sandbox.salesforce.soql_eval import compare, matches, sort_key  # noqa: E402

__all__ = ["BoolOp", "Comparison", "Order", "Query", "SoqlError", "compare", "matches", "parse", "sort_key"]
