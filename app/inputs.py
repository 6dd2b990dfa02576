"""The one input gate: every path parameter, query parameter and form field of a request is
checked here, once, at the edge, before any service sees it (``check_inputs``, run by
``app.deps.load_context`` before every page and by the JSON API's dependencies). Both
databases therefore answer bad input the same way: the gate refuses it before either sees it.

The rules, and their numbers:

- **Control characters** — U+0000–U+001F, U+007F–U+009F — and lone surrogates in any value
  (or field name) are refused with 422: "This field contains characters that are not
  allowed." Tab, newline and carriage return are allowed in long texts only (the textareas:
  fields named ``text`` or ``text-…``, see ``LONG_TEXT``).
- **Integers**: every parameter the route declares as ``int`` (path, query, form), and every
  field named ``id`` or ``…_id`` that a route reads from the form or the query itself, must
  fit PostgreSQL's ``INTEGER`` column, −2³¹ … 2³¹−1 (``INT_MIN`` / ``INT_MAX``). Out of range
  in the path is 404, the same as an id that does not exist; in a query or a form, 422. A
  value that is no integer at all is left to the route's own validation (422), and so is a
  parameter whose own bounds (``ge``/``le``) lie within the column's.
- **Dates**: 2000-01-01 … 2100-12-31 (``FIRST_DAY`` / ``LAST_DAY``) for every parameter
  declared ``date`` or ``datetime``, and for every single-line value written as an ISO date
  (``2025-10-14``, ``2025-10-14T08:00``); otherwise 422. A value that is no date (2024-02-30)
  is left to the route.
- **Files**: a file part is accepted only where the route declares a file parameter
  (``UploadFile`` / ``bytes`` with ``File()``), or in the fields ``upload_route`` names for a
  route that reads its upload from the form itself; anywhere else, 422.
- **Lengths**: the route's own ``max_length`` where it declares one; otherwise 10,000
  characters for long texts (``LONG_MAX``), 256 for passwords, 500 for ``next`` (a local
  address), 300 for ``reason``, 8,000 for ``skip`` (the ids a reminder walk has passed) and 200
  for every other single-line field (``SHORT_MAX``); too long is 422, and 404 in the path.

The gate works a route out once, at its first request, from ``route.dependant`` (the
parameters of the route and of its dependencies, with their annotations), and keeps the result
on the route; a page without parameters pays one attribute lookup.

``clean_text`` removes the bidirectional-override characters (U+202A–U+202E, U+2066–U+2069)
that could make a name or a reflection display as something else; services call it where they
save names and reflections (they are removed, not refused: pasted text carries them).

This module imports nothing of the web framework (services import ``clean_text``); it reads the
request and the route by their documented attributes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import MaxLen
from pydantic import BaseModel

from app.errors import AppError, NotFound
from app.i18n import N_

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
_FIRST_SECOND = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp())
_LAST_SECOND = int(datetime(2101, 1, 1, tzinfo=UTC).timestamp()) - 1
SHORT_MAX = 200
LONG_MAX = 10_000
# single-line fields allowed longer than SHORT_MAX (by name)
FIELD_MAX = {"password": 256, "password2": 256, "current": 256, "next": 500, "reason": 300}
FIELD_MAX |= {"skip": 8_000}
# the textareas: tab and newline allowed, LONG_MAX characters
LONG_TEXT = re.compile(r"text(?:-.*)?")
# fields a route reads from the form itself that hold an id
ID_FIELD = re.compile(r"(?:.*_)?id")


def upload_route(*fields: str) -> dict[str, Any]:
    """The options of a route that reads file parts (the named form fields) from its form
    itself, ``@router.post(path, **upload_route("file"))``: its body may be as large as an
    upload (``app.edge``), and the gate lets those fields be files."""
    return {"openapi_extra": {"x-upload-fields": list(fields)}}


def upload_fields(route: Any) -> frozenset[str]:
    """The fields ``upload_route`` named for a route (none for any other route)."""
    extra = getattr(route, "openapi_extra", None) or {}
    return frozenset(extra.get("x-upload-fields", ()))


NOT_ALLOWED = N_("This field contains characters that are not allowed.")
TOO_LONG = N_("This field is too long.")
OUT_OF_RANGE = N_("This number is too large or too small.")
BAD_DAY = N_("Enter a date between %(first)s and %(last)s.")
NOT_A_FILE = N_("This field takes text, not a file.")

_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
SHORT_BAD = re.compile(f"[{_CONTROL}\t\n\r]")
LONG_BAD = re.compile(f"[{_CONTROL}]")
BIDI = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
# an ISO date, perhaps with a time and an offset, and nothing else
ISO_DAY = re.compile(
    r"\s*([+-]?\d{4,})-\d{1,2}-\d{1,2}"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?\s*"
)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def clean_text(value: str) -> str:
    """The text without bidirectional-override characters (embedding, override and isolate
    marks), which could make a name or a reflection read as something it is not."""
    return value.translate(BIDI)


# ---------------------------------------------------------------- what a route declares

Kind = Literal["text", "int", "date", "file"]


@dataclass(frozen=True)
class Field:
    """What one parameter may hold."""

    kind: Kind = "text"
    max_length: int | None = None  # the route's own max_length
    bounded: bool = False  # an int whose own bounds (ge/le) lie within the column's


def _bounded(field_info: Any) -> bool:
    low = high = None
    for item in getattr(field_info, "metadata", ()) or ():
        low = getattr(item, "ge", getattr(item, "gt", low))
        high = getattr(item, "le", getattr(item, "lt", high))
    return low is not None and high is not None and INT_MIN <= low and high <= INT_MAX


@dataclass
class RouteSpec:
    """The declared parameters of a route, by the name they have in the request."""

    path: dict[str, Field] = field(default_factory=dict)
    query: dict[str, Field] = field(default_factory=dict)
    form: dict[str, Field] = field(default_factory=dict)
    files: frozenset[str] = frozenset()


_SPEC = "_input_spec"
_NO_ROUTE = RouteSpec()


def _leaves(annotation: Any) -> list[Any]:
    """The plain types inside ``Annotated``, ``Optional``, unions and lists."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _leaves(get_args(annotation)[0])
    if origin in (Union, UnionType, list, set, tuple, frozenset):
        return [leaf for arg in get_args(annotation) for leaf in _leaves(arg)]
    return [annotation]


def _kind(annotation: Any, field_info: Any) -> Kind:
    if type(field_info).__name__ == "File":
        return "file"
    for leaf in _leaves(annotation):
        if not isinstance(leaf, type) or leaf is type(None):
            continue
        if leaf is bytes or any(c.__name__ == "UploadFile" for c in leaf.__mro__):
            return "file"
        if issubclass(leaf, bool) or (issubclass(leaf, Enum) and not issubclass(leaf, int)):
            return "text"
        if issubclass(leaf, int):
            return "int"
        if issubclass(leaf, date):  # datetime too
            return "date"
    return "text"


def _max_length(field_info: Any) -> int | None:
    for item in getattr(field_info, "metadata", ()) or ():
        if isinstance(item, MaxLen):
            return int(item.max_length)
    return None


def _model(annotation: Any) -> type[BaseModel] | None:
    for leaf in _leaves(annotation):
        if isinstance(leaf, type) and issubclass(leaf, BaseModel):
            return leaf
    return None


def _fields(params: list[Any]) -> dict[str, Field]:
    """FastAPI's ``ModelField`` list of one kind of parameter → name in the request → Field;
    a pydantic model as the parameter (``Annotated[Query, Query()]``) gives its fields."""
    out: dict[str, Field] = {}
    for param in params:
        info = param.field_info
        model = _model(info.annotation) if type(info).__name__ != "File" else None
        if model is not None:
            for name, sub in model.model_fields.items():
                key = sub.alias or name
                out[key] = Field(_kind(sub.annotation, sub), _max_length(sub), _bounded(sub))
        else:
            key = getattr(param, "alias", None) or param.name
            out[key] = Field(_kind(info.annotation, info), _max_length(info), _bounded(info))
    return out


def route_spec(route: Any) -> RouteSpec:
    """The route's declared parameters, from its dependant tree; worked out once per route."""
    if route is None:
        return _NO_ROUTE
    spec: RouteSpec | None = getattr(route, _SPEC, None)
    if spec is not None:
        return spec
    spec = RouteSpec()
    dependant = getattr(route, "dependant", None)
    seen: set[int] = set()
    todo = [dependant] if dependant is not None else []
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        spec.path.update(_fields(current.path_params))
        spec.query.update(_fields(current.query_params))
        spec.form.update(_fields(current.body_params))
        todo.extend(current.dependencies)
    spec.files = frozenset(n for n, f in spec.form.items() if f.kind == "file") | upload_fields(
        route
    )
    try:
        setattr(route, _SPEC, spec)
    except AttributeError:  # a route that keeps no attributes: worked out each time
        pass
    return spec


# ---------------------------------------------------------------- the checks


class InputError(AppError):
    """A value the gate refuses; ``field`` names it."""

    status = 422


def _limit(name: str, declared: Field | None, long: bool) -> int:
    if declared is not None and declared.max_length is not None:
        return declared.max_length
    if long:
        return LONG_MAX
    return FIELD_MAX.get(name, SHORT_MAX)


def _integer(value: str) -> int | None:
    """The integer a value spells (as the route's validation would read it), or None."""
    text = value.strip().replace("_", "")
    if len(text) > 40:  # far beyond any integer column; not worth converting
        return INT_MAX + 1
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if number.adjusted() > 18:
        return INT_MAX + 1 if number > 0 else INT_MIN - 1
    return int(number) if number == number.to_integral_value() else None


def _in_range(value: str, kind: Kind) -> bool:
    """Whether a date value (an ISO date; for a declared date, also a Unix timestamp in
    seconds or milliseconds, as pydantic reads one) falls between FIRST_DAY and LAST_DAY; a
    value that is no date is left to the route."""
    match = ISO_DAY.fullmatch(value)
    if match:
        return FIRST_DAY.year <= int(match.group(1)) <= LAST_DAY.year
    if kind == "date":
        number = _integer(value)
        if number is not None:
            seconds = number if abs(number) <= 2 * 10**10 else number // 1000
            return _FIRST_SECOND <= seconds <= _LAST_SECOND
    return True


def check_value(where: str, name: str, value: str, declared: Field | None) -> None:
    """One value of the request (``where``: path, query or form); raises what the gate
    answers."""
    long = where == "form" and LONG_TEXT.fullmatch(name) is not None
    if (LONG_BAD if long else SHORT_BAD).search(value) or SHORT_BAD.search(name):
        raise InputError(message=NOT_ALLOWED, field=name)
    if len(value) > _limit(name, declared, long):
        if where == "path":
            raise NotFound
        raise InputError(message=TOO_LONG, field=name)
    kind = declared.kind if declared is not None else "text"
    if kind == "int" or (declared is None and where != "path" and ID_FIELD.fullmatch(name)):
        if declared is not None and declared.bounded:
            return  # the route's own bounds answer (422), before any service
        number = _integer(value)
        if number is not None and not INT_MIN <= number <= INT_MAX:
            if where == "path":
                raise NotFound
            raise InputError(message=OUT_OF_RANGE, field=name)
        return
    if long or not value:
        return
    if kind == "date" or value[0].isdigit() or value[0] in " +-":
        if not _in_range(value, kind):
            if where == "path":
                raise NotFound
            raise InputError(
                message=BAD_DAY, values={"first": FIRST_DAY, "last": LAST_DAY}, field=name
            )


async def check_inputs(request: Any) -> None:
    """The gate, for the request of a matched route (a Starlette ``Request``): its path
    parameters, query parameters and, for an unsafe method, its form. Raises an ``AppError``
    (422, or 404 for a path value that cannot name anything)."""
    scope = request.scope
    spec = route_spec(scope.get("route"))
    path_params = scope.get("path_params")
    if path_params:
        for name, value in path_params.items():
            if isinstance(value, str):
                check_value("path", name, value, spec.path.get(name))
            elif isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
                raise NotFound  # a ``{name:int}`` path converter's value
    if scope.get("query_string"):
        for name, value in request.query_params.multi_items():
            check_value("query", name, value, spec.query.get(name))
    if request.method in UNSAFE and request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form()
        for name, value in form.multi_items():
            if not isinstance(value, str):
                if name not in spec.files:
                    raise InputError(message=NOT_A_FILE, field=name)
                if SHORT_BAD.search(name):
                    raise InputError(message=NOT_ALLOWED, field=name)
                continue
            declared = spec.form.get(name)
            if declared is not None and declared.kind == "file":
                continue  # a text part where a file is expected: the route's validation
            check_value("form", name, value, declared)
