"""Hand-written statements whose rows become model instances as the ORM would have loaded them.

For the few statements every API request or every booking runs, building the query with the ORM
costs more CPU than the database spends answering it (a profile of ``POST /api/v1/bookings`` put
query building first). Those statements are written as SQL once, and their rows turned back into
instances here: ``columns`` and ``from_row`` for plain rows (a row may hold several joined models),
``json_rows`` and ``rows_from_json`` for the rows of several small tables read in one statement,
each table's rows as a JSON array in a scalar subquery (a booking request reads a handful of rows
from eight tables in one round trip). PostgreSQL and SQLite.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Field, Model


def json_rows(
    model: type[Model], alias: str, where: str, *, joined: Sequence[tuple[type[Model], str, str]] = ()
) -> str:
    """Return a scalar subquery (SQL) giving the rows of ``model`` (as ``alias``) matching ``where`` as a JSON array.

    Each row is an array of the model's concrete columns in field order, followed by those of each
    ``joined`` (model, alias, join condition) — a LEFT JOIN, as ``select_related`` of a nullable key.
    """
    quote = connection.ops.quote_name
    columns = [f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields]
    joins = ""
    for other, other_alias, condition in joined:
        columns += [f"{other_alias}.{quote(f.column)}" for f in other._meta.concrete_fields]
        joins += f" LEFT JOIN {quote(other._meta.db_table)} {other_alias} ON {condition}"
    if connection.vendor == "postgresql":
        row, array = "JSONB_BUILD_ARRAY", "JSONB_AGG"
    else:
        row, array = "JSON_ARRAY", "JSON_GROUP_ARRAY"
    table = quote(model._meta.db_table)
    return f"(SELECT {array}({row}({', '.join(columns)})) FROM {table} {alias}{joins} WHERE {where})"


def columns(model: type[Model], alias: str) -> str:
    """Return the select list of ``model``'s concrete columns (as ``alias``), in field order, for ``from_row``."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)


def from_row(values: Sequence[Any], *models: type[Model]) -> tuple[Model | None, ...]:
    """Return an instance of each of ``models`` from consecutive slices of ``values`` (a row selected with
    ``columns`` of each); None for a model after the first whose primary key is NULL (a LEFT JOIN's miss)."""
    instances: list[Model | None] = []
    offset = 0
    for index, model in enumerate(models):
        fields = model._meta.concrete_fields
        own = values[offset : offset + len(fields)]
        offset += len(fields)
        if index and own[0] is None:
            instances.append(None)
        else:
            instances.append(
                model.from_db(connection.alias, None, [_python(f, v) for f, v in zip(fields, own, strict=True)])
            )
    return tuple(instances)


def rows_from_json(
    text: str | None, model: type[Model], *, joined: Sequence[type[Model]] = ()
) -> list[tuple[Model, ...]]:
    """Return the rows of a ``json_rows`` array: per row, an instance of ``model`` and one of each ``joined``
    model (None where the LEFT JOIN found nothing)."""
    if not text:
        return []  # PostgreSQL aggregates no rows to NULL
    return [from_row(values, model, *joined) for values in json.loads(text, parse_float=Decimal)]


def _python(field: Field, value: Any) -> Any:
    """Return ``value`` (from the driver, or from JSON) as the ORM would have given it for ``field``."""
    if value is None:
        return None
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        # PostgreSQL gives aware datetimes (in JSON with their offset); SQLite stores naive UTC text.
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    if kind == "DateField":
        return dt.date.fromisoformat(value) if isinstance(value, str) else value
    if kind == "TimeField":
        return dt.time.fromisoformat(value) if isinstance(value, str) else value
    if kind == "BooleanField":
        return bool(value)
    if kind == "DecimalField":
        return field.to_python(value)
    if kind == "FloatField":
        return float(value)
    if kind == "JSONField":
        raise NotImplementedError("sql_rows does not carry JSON columns")
    return value
