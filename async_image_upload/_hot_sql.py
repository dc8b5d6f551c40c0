"""Hand-built SQL for the two statements every upload runs, where the ORM costs most.

On a small server the ORM's query building, not the database, dominates these
paths: compiling a ``count()`` takes longer than PostgreSQL takes to answer it.
Each statement here is built from public field and backend APIs only
(``get_db_prep_value``, ``quote_name``, ``limit_offset_sql``), so values are
bound and converted exactly as the ORM would, on every backend Django ships.

``UPDATE … WHERE … RETURNING *`` is the callback's compare-and-swap that also
reads the row back: one round trip where the ORM needs a ``SELECT`` and an
``UPDATE``. Django has no public API for it, so the statement is built here and
read back through ``Manager.raw()``, which applies each field's database
converters the way a normal query does. MySQL, MariaDB and Oracle lack the
statement: :func:`supports_update_returning` says so, and callers keep the
two-statement path there.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from django.db import connections
from django.db.models import Model


def _where(
    model: type[Model], connection: Any, where: list[tuple[str, str, Any]]
) -> tuple[str, list[Any]]:
    """``(field, operator, value)`` triples as an ``AND``-ed SQL condition and its bound values."""
    opts = model._meta
    conditions, params = [], []
    for name, operator, value in where:
        if operator not in ("=", ">"):
            raise ValueError(f"Unsupported operator {operator!r}")
        field = opts.pk if name == "pk" else opts.get_field(name)
        conditions.append(f"{connection.ops.quote_name(field.column)} {operator} %s")
        params.append(field.get_db_prep_value(value, connection, prepared=False))
    return " AND ".join(conditions), params


def supports_update_returning(alias: str) -> bool:
    vendor = connections[alias].vendor
    if vendor == "postgresql":
        return True
    return vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 35)


def update_returning(
    model: type[Model], *, alias: str, where: dict[str, Any], changes: dict[str, Any]
) -> Model | None:
    """Apply ``changes`` to the one row matching every ``where`` (field = value).

    Returns the row as it is after the update, or None when no row matched. The
    caller checks :func:`supports_update_returning` first.
    """
    connection = connections[alias]
    opts = model._meta
    quote = connection.ops.quote_name
    assignments, params = [], []
    for name, value in changes.items():
        field = opts.get_field(name)
        assignments.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    conditions, condition_params = _where(
        model, connection, [(n, "=", v) for n, v in where.items()]
    )
    columns = ", ".join(quote(field.column) for field in opts.concrete_fields)
    statement = (
        f"UPDATE {quote(opts.db_table)} SET {', '.join(assignments)}"  # noqa: S608 - names quoted, values bound
        f" WHERE {conditions} RETURNING {columns}"
    )
    rows = list(model._default_manager.db_manager(alias).raw(statement, params + condition_params))
    return rows[0] if rows else None


def count_up_to(
    model: type[Model], *, alias: str, where: list[tuple[str, str, Any]], limit: int
) -> int:
    """Rows matching every ``(field, operator, value)`` in ``where``, counted up to ``limit``.

    Stopping at ``limit`` keeps a cap check as cheap for a user with thousands
    of rows as for one with none. Operators: ``=`` and ``>``.
    """
    connection = connections[alias]
    conditions, params = _where(model, connection, where)
    limit_sql = connection.ops.limit_offset_sql(0, int(limit))
    table = connection.ops.quote_name(model._meta.db_table)
    statement = (
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {table}"  # noqa: S608 - names quoted, values bound
        f" WHERE {conditions} {limit_sql}) capped"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return int(cursor.fetchone()[0])
