"""The rows of several small tables in one statement: each table's rows as a JSON array in a scalar subquery.

A booking request reads a handful of rows from eight tables (the room's parts, its rules, opening
hours, holidays, closures, the booker's memberships). Read a query per table, the round trips and
Django's query building cost more than the reading; read as one statement, they cost one round
trip. ``json_rows`` writes the subquery for one table (PostgreSQL or SQLite), ``rows_from_json``
turns its array back into model instances as the ORM would have loaded them.
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


def rows_from_json(
    text: str | None, model: type[Model], *, joined: Sequence[type[Model]] = ()
) -> list[tuple[Model, ...]]:
    """Return the rows of a ``json_rows`` array: per row, an instance of ``model`` and one of each ``joined``
    model (None where the LEFT JOIN found nothing)."""
    if not text:
        return []  # PostgreSQL aggregates no rows to NULL
    models = [model, *joined]
    rows = []
    for values in json.loads(text, parse_float=Decimal):
        instances: list[Any] = []
        offset = 0
        for each in models:
            fields = each._meta.concrete_fields
            own = values[offset : offset + len(fields)]
            offset += len(fields)
            if own[0] is None and each is not model:
                instances.append(None)
                continue
            instances.append(
                each.from_db(connection.alias, None, [_python(f, v) for f, v in zip(fields, own, strict=True)])
            )
        rows.append(tuple(instances))
    return rows


def _python(field: Field, value: Any) -> Any:
    """Return ``value`` as the database adapter would have given it for ``field``."""
    if value is None:
        return None
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        # PostgreSQL writes the offset; SQLite stores naive UTC.
        moment = dt.datetime.fromisoformat(value)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    if kind == "DateField":
        return dt.date.fromisoformat(value)
    if kind == "TimeField":
        return dt.time.fromisoformat(value)
    if kind in ("BooleanField", "NullBooleanField"):
        return bool(value)
    if kind == "DecimalField":
        return field.to_python(value)
    if kind == "FloatField":
        return float(value)
    if kind == "JSONField":
        raise NotImplementedError("json_rows does not carry JSON columns")
    return value
