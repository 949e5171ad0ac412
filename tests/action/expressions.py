"""GitHub Actions expressions (``${{ ... }}``), enough to run ``action.yml`` outside GitHub.

Implements the documented language: literals (``null``, booleans, numbers, 'strings' with ''
escapes), property access (``a.b``, ``a['b']``, names with ``-``), ``!``, ``<`` ``<=`` ``>``
``>=`` ``==`` ``!=``, ``&&`` ``||`` (which return an operand, not a boolean), parentheses, and the
functions ``contains``, ``startsWith``, ``endsWith``, ``format``, ``join``, ``toJSON``,
``fromJSON`` and the status functions. Comparisons follow GitHub's loose rules: strings compare
case-insensitively, and values of different types are compared as numbers (``null`` is 0, ``''``
is 0, a non-numeric string is NaN). Anything else is a :class:`ExpressionError`, so the action
cannot quietly rely on syntax this harness does not understand.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class ExpressionError(Exception):
    pass


_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<number>0x[0-9a-fA-F]+|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    | (?P<string>'(?:[^']|'')*')
    | (?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,*])
    | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExpressionError(f"cannot read {text[pos:]!r} in {text!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append(_Tok(kind, match.group(kind)))
        pos = match.end()
    return out


def to_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    return math.nan


def truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def to_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2)
    return str(value)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    if type(a) is type(b) and isinstance(a, (dict, list)):
        return a is b
    if a is None and b is None:
        return True
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return to_number(a) == to_number(b)


def _compare(a: Any, b: Any, op: str) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        x: Any = a.casefold()
        y: Any = b.casefold()
    else:
        x, y = to_number(a), to_number(b)
        if math.isnan(x) or math.isnan(y):
            return False
    return bool({"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op])


def _format(template: Any, *args: Any) -> str:
    text = to_string(template)

    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "{{":
            return "{"
        if match.group(0) == "}}":
            return "}"
        return to_string(args[int(match.group(1))])

    return re.sub(r"\{\{|\}\}|\{(\d+)\}", sub, text)


def _contains(haystack: Any, needle: Any) -> bool:
    if isinstance(haystack, list):
        return any(_equal(item, needle) for item in haystack)
    return to_string(needle).casefold() in to_string(haystack).casefold()


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": _contains,
    "startswith": lambda a, b: to_string(a).casefold().startswith(to_string(b).casefold()),
    "endswith": lambda a, b: to_string(a).casefold().endswith(to_string(b).casefold()),
    "format": _format,
    "join": lambda items, sep=",": (
        to_string(sep).join(to_string(i) for i in items)
        if isinstance(items, list)
        else to_string(items)
    ),
    "tojson": lambda value: json.dumps(value, indent=2),
    "fromjson": lambda text: json.loads(to_string(text)),
}
STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")


class _Parser:
    def __init__(self, text: str, context: Mapping[str, Any], status: Mapping[str, bool]) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.pos = 0
        self.context = context
        self.status = status

    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self, text: str | None = None) -> _Tok:
        tok = self.peek()
        if tok is None or (text is not None and tok.text != text):
            raise ExpressionError(f"expected {text or 'more'} in {self.text!r}")
        self.pos += 1
        return tok

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()} in {self.text!r}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() is not None and self.peek().text == "||":  # type: ignore[union-attr]
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.equality()
        while self.peek() is not None and self.peek().text == "&&":  # type: ignore[union-attr]
            self.take()
            right = self.equality()
            value = right if truthy(value) else value
        return value

    def equality(self) -> Any:
        value = self.comparison()
        while self.peek() is not None and self.peek().text in ("==", "!="):  # type: ignore[union-attr]
            op = self.take().text
            right = self.comparison()
            value = _equal(value, right) if op == "==" else not _equal(value, right)
        return value

    def comparison(self) -> Any:
        value = self.unary()
        while self.peek() is not None and self.peek().text in ("<", "<=", ">", ">="):  # type: ignore[union-attr]
            op = self.take().text
            value = _compare(value, self.unary(), op)
        return value

    def unary(self) -> Any:
        if self.peek() is not None and self.peek().text == "!":  # type: ignore[union-attr]
            self.take()
            return not truthy(self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        value = self.primary()
        while (tok := self.peek()) is not None and tok.text in (".", "["):
            self.take()
            if tok.text == ".":
                name = self.take()
                if name.kind != "name" and name.text != "*":
                    raise ExpressionError(f"bad property {name.text!r} in {self.text!r}")
                value = _index(value, name.text)
            else:
                key = self.or_()
                self.take("]")
                value = _index(value, key)
        return value

    def primary(self) -> Any:
        tok = self.take()
        if tok.kind == "number":
            number = float(int(tok.text, 16)) if tok.text.startswith("0x") else float(tok.text)
            return number
        if tok.kind == "string":
            return tok.text[1:-1].replace("''", "'")
        if tok.text == "(":
            value = self.or_()
            self.take(")")
            return value
        if tok.kind != "name":
            raise ExpressionError(f"unexpected {tok.text!r} in {self.text!r}")
        word = tok.text
        if word in ("true", "false"):
            return word == "true"
        if word == "null":
            return None
        nxt = self.peek()
        if nxt is not None and nxt.text == "(":
            return self.call(word)
        if word not in self.context:
            raise ExpressionError(f"unknown context {word!r} in {self.text!r}")
        return self.context[word]

    def call(self, name: str) -> Any:
        self.take("(")
        args: list[Any] = []
        if self.peek() is not None and self.peek().text != ")":  # type: ignore[union-attr]
            args.append(self.or_())
            while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.take()
                args.append(self.or_())
        self.take(")")
        key = name.lower()
        if key in STATUS_FUNCTIONS:
            if args:
                raise ExpressionError(f"{name}() takes no arguments")
            return self.status[key]
        if key not in FUNCTIONS:
            raise ExpressionError(f"unknown function {name!r} in {self.text!r}")
        return FUNCTIONS[key](*args)


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, dict):
        if isinstance(key, str):
            for name, item in value.items():
                if name.casefold() == key.casefold():
                    return item
        return None
    if isinstance(value, list) and isinstance(key, (int, float)) and not isinstance(key, bool):
        index = int(key)
        return value[index] if 0 <= index < len(value) else None
    return None


def evaluate(
    text: str, context: Mapping[str, Any], status: Mapping[str, bool] | None = None
) -> Any:
    """The value of one expression (without the ``${{ }}``)."""
    return _Parser(text, context, status or _DEFAULT_STATUS).parse()


_DEFAULT_STATUS = {"success": True, "failure": False, "always": True, "cancelled": False}
_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def interpolate(
    text: str, context: Mapping[str, Any], status: Mapping[str, bool] | None = None
) -> str:
    """A string with every ``${{ expr }}`` replaced by its value, as GitHub renders it."""
    return _TEMPLATE.sub(lambda m: to_string(evaluate(m.group(1), context, status)), text)


def uses_status_function(expression: str) -> bool:
    return any(re.search(rf"\b{name}\s*\(", expression, re.IGNORECASE) for name in STATUS_FUNCTIONS)


def condition(
    text: str | bool | None, context: Mapping[str, Any], status: Mapping[str, bool]
) -> bool:
    """An ``if:``: ``${{ }}`` optional, and ``success() &&`` implied without a status function."""
    if text is None:
        return status["success"]
    if isinstance(text, bool):
        return text and status["success"]
    expression = text.strip()
    whole = _TEMPLATE.fullmatch(expression)
    if whole is not None:
        expression = whole.group(1).strip()
    elif "${{" in expression:
        raise ExpressionError(f"an if: mixing text and ${{{{ }}}} is always true: {text!r}")
    value = truthy(evaluate(expression, context, status))
    if not uses_status_function(expression):
        value = value and status["success"]
    return value
