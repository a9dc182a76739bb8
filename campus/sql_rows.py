"""Hand-written statements whose rows become model instances as the ORM would have loaded them.

For the few statements every API request or every booking runs, building the query with the ORM
costs more CPU than the database spends answering it (a profile of ``POST /api/v1/bookings`` put
query building first). Those statements are written as SQL once, and their rows turned back into
instances here: ``columns`` and ``from_row`` for plain rows (a row may hold several joined models),
``json_rows`` and ``rows_from_json`` for the rows of several small tables read in one statement,
each table's rows as a JSON array in a scalar subquery (a booking request reads a handful of rows
from eight tables in one round trip). PostgreSQL and SQLite.

On PostgreSQL planning such a statement cost more than running it (0.1–0.4 ms of the server's CPU
each): ``execute`` runs them as prepared statements, planned once per connection.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import weakref
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model

# The statements prepared on each open PostgreSQL connection (keyed by the driver's connection, so a
# new connection, after CONN_MAX_AGE or an outage, prepares them again).
_prepared_on: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s|%%")


@cache
def _prepared_form(sql: str, label: str) -> tuple[str, str, tuple[str, ...] | int]:
    """Return the statement's name (``label`` and a digest of ``sql``), its text with ``$n`` parameters, and
    the order of its named parameters (or the count of its positional ones)."""
    names: list[str] = []
    positional = 0

    def number(match: re.Match[str]) -> str:
        nonlocal positional
        if match.group(0) == "%%":
            return "%"
        if match.group(1) is None:
            positional += 1
            return f"${positional}"
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    text = _PLACEHOLDER.sub(number, sql)
    if names and positional:
        raise ValueError("a statement takes either named or positional parameters")
    name = f"kampus_{label}_{hashlib.sha1(sql.encode()).hexdigest()[:12]}"
    return name, text, tuple(names) if names else positional


def execute(cursor: Any, sql: str, params: Sequence[Any] | Mapping[str, Any], *, label: str) -> None:
    """Execute hand-written ``sql`` (``%s`` or ``%(name)s`` parameters) on ``cursor`` (from ``connection.cursor()``).

    On PostgreSQL it runs as a prepared statement named after ``label`` (``EXECUTE kampus_<label>_…``
    in the server's logs), prepared on the connection's first use of it:
    the server plans it once instead of on every request (its generic plan after five runs). Only
    for statements whose text does not vary with the request (a list of ids is one array
    parameter). ``DATABASE_PREPARED_STATEMENTS=0`` turns this off, for a pooler that hands each
    transaction another server connection (PgBouncer's transaction pooling). SQLite keeps its own
    cache of compiled statements.
    """
    db = cursor.db
    if db.vendor != "postgresql" or not settings.KAMPUS_DATABASE_PREPARED_STATEMENTS:
        cursor.execute(sql, params)
        return
    name, text, order = _prepared_form(sql, label)
    if isinstance(order, int):
        values = list(params)
        if len(values) != order:
            raise ValueError(f"the statement takes {order} parameters, {len(values)} given")
    else:
        values = [params[key] for key in order]  # type: ignore[call-overload]
    db.ensure_connection()
    prepared = _prepared_on.setdefault(db.connection, set())
    if name not in prepared:
        # Through the driver's own cursor: preparing is set-up of the connection, not one of the request's queries.
        with db.wrap_database_errors, db.connection.cursor() as raw:
            raw.execute(f"PREPARE {name} AS {text}")
        prepared.add(name)
    cursor.execute(f"EXECUTE {name}({', '.join(['%s'] * len(values))})" if values else f"EXECUTE {name}", values)


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


@cache
def _insert_sql(model: type[Model], vendor: str) -> tuple[str, tuple[Field, ...]]:
    """Return the statement inserting one row of ``model`` (returning its key) and the fields it takes, in order."""
    quote = connection.ops.quote_name
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if not f.primary_key and not f.generated)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(meta.pk.column)}"
    )
    return sql, fields


def insert(instances: Sequence[Model], *, label: str) -> list[Model]:
    """Insert ``instances`` (new rows of one model) and give them their primary keys, as ``bulk_create`` does.

    One row (a one-off booking's row, its block, its audit event) goes in through a statement written
    once per model (and prepared, ``execute``), each value as the ORM saves it: the field's
    ``pre_save`` (``auto_now``) and ``get_db_prep_save`` (JSON, datetimes). Building the ORM's insert
    took more CPU than the database spent on it. Several rows go through ``bulk_create``. Like
    ``bulk_create``, sends no signals; a database error (a constraint) is raised as the ORM raises it.
    """
    if not instances:
        return []
    model = type(instances[0])
    # The connection itself, not the proxy ``connection``: each field below asks it for its operations.
    db = connections[DEFAULT_DB_ALIAS]
    if len(instances) > 1 or not db.features.can_return_columns_from_insert:
        return model._default_manager.bulk_create(instances)
    (instance,) = instances
    if instance.pk is not None:
        raise ValueError(f"{model.__name__} {instance.pk} is in the database already")
    instance._prepare_related_fields_for_save(operation_name="insert")
    sql, fields = _insert_sql(model, db.vendor)
    values = [field.get_db_prep_save(field.pre_save(instance, True), db) for field in fields]
    with db.cursor() as cursor:
        execute(cursor, sql, values, label=label)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = db.alias
    return [instance]


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
