"""Fast inserts and updates for the importer, below the ORM, optionally in a writer thread.

Measured on the bench (2 cores): Django's `bulk_create` spends 80-100 µs per row preparing
values field by field, i.e. 80 s for the million rows of a 100,000-pupil import. These helpers
take rows as tuples already in database form, fill every other column with the model field's
default (so they follow the models), and hand them to the driver in one call: `executemany` on
SQLite (a C loop, ~2 µs a row) and binary COPY on PostgreSQL.

Inside `background_writes()`, the writes go to a writer thread instead, in order, on the same
connection (so in the same transaction) while this thread prepares the next rows: the database
works (SQLite's C code and PostgreSQL's server both run without the GIL) while Python computes.
Any query this thread makes through Django first waits for the pending writes (an execute
wrapper), so it always sees them; a failed write is raised at that point.

No model `save()`, signals or `pre_save` run: callers pass `now` for auto_now fields via defaults.
SQL is built only from table and column names of our own models, quoted by the backend; values
always travel as parameters or COPY data (hence the `noqa: S608` below).
"""

from __future__ import annotations

import datetime
import itertools
import operator
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from django.db import connection, models
from django.utils import timezone

Job = Callable[[Any], None]  # runs with a driver cursor (sqlite3 or psycopg)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _placeholder() -> str:
    # Raw driver cursors: sqlite3 takes "?", psycopg "%s".
    return "?" if connection.vendor == "sqlite" else "%s"


def _fields(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    return [cast(models.Field, model._meta.get_field(name)) for name in names]


def _converters(fields: Sequence[models.Field]) -> list[Callable[[Any], Any] | None]:
    """Per-column conversions the driver cannot do itself (SQLite stores dates as text)."""
    if connection.vendor != "sqlite":
        return [None] * len(fields)
    ops = connection.ops
    result: list[Callable[[Any], Any] | None] = []
    for field in fields:
        if isinstance(field, models.DateTimeField):
            result.append(ops.adapt_datetimefield_value)
        elif isinstance(field, models.DateField):
            result.append(ops.adapt_datefield_value)
        else:
            result.append(None)
    return result


def _convert(rows: Iterable[Sequence[Any]], converters: list[Callable[[Any], Any] | None]) -> Iterable[Sequence[Any]]:
    active = [(i, c) for i, c in enumerate(converters) if c is not None]
    if not active:
        return rows

    def convert(row: Sequence[Any]) -> list[Any]:
        out = list(row)
        for i, conv in active:
            if out[i] is not None:
                out[i] = conv(out[i])
        return out

    return (convert(row) for row in rows)


def _pg_type(field: models.Field) -> str:
    """PostgreSQL type name of a column, for binary COPY ('varchar(150)' -> 'varchar')."""
    return re.sub(r"\(.*", "", field.db_type(connection) or "").strip()


def _default(field: models.Field, now: datetime.datetime) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    return field.get_default()


# --- the writer thread ----------------------------------------------------------------------------


class _WriterThread:
    """Runs jobs one after the other on the connection's driver object, in a thread."""

    def __init__(self, raw_connection: Any) -> None:
        self._raw = raw_connection
        self._wrap_errors = connection.wrap_database_errors  # driver errors as Django's, as in _run
        # A few jobs ahead at most: each holds its rows in memory until written.
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="cartable-import-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if self._error is None:
                    cursor = self._raw.cursor()
                    try:
                        with self._wrap_errors:
                            job(cursor)
                    finally:
                        cursor.close()
            except BaseException as exc:  # raised in the caller's thread at the next barrier
                self._error = exc
            finally:
                self._jobs.task_done()

    def submit(self, job: Job) -> None:
        self._raise()
        self._jobs.put(job)

    def barrier(self) -> None:
        """Wait until every submitted write is done; raise the first failure."""
        self._jobs.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join()


_local = threading.local()


def _writer() -> _WriterThread | None:
    return getattr(_local, "writer", None)


@contextmanager
def write_phase(background: bool = False) -> Iterator[None]:
    """The import's writes: id counters and reserves live for this block only; with
    `background`, writes go to a writer thread (see the module docstring).

    Use inside the transaction (`atomic`), so that the thread is done before it ends."""
    _local.next_ids = {}
    _local.reserved = {}
    if not background:
        try:
            yield
        finally:
            _local.next_ids = None
            _local.reserved = {}
        return
    connection.ensure_connection()
    writer = _WriterThread(connection.connection)
    _local.writer = writer

    def wait_for_writes(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        writer.barrier()
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(wait_for_writes):
            yield
            writer.barrier()
    finally:
        _local.writer = None
        _local.next_ids = None
        _local.reserved = {}
        writer.close()


def _run(job: Job) -> None:
    writer = _writer()
    if writer is not None:
        writer.submit(job)
    else:
        # The driver's cursor, as the writer thread gets it; its errors raised as Django's
        # (IntegrityError…), which run_import reports.
        with connection.cursor() as cursor, connection.wrap_database_errors:
            job(cursor.cursor)


def barrier() -> None:
    """Wait for the background writes (no-op outside `background_writes`)."""
    writer = _writer()
    if writer is not None:
        writer.barrier()


# --- writes ---------------------------------------------------------------------------------------


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """INSERT `rows` (tuples in the order of `columns`, field names or attnames) into `model`'s
    table. Other concrete fields get their default (auto_now/auto_now_add: now).

    `rows` must be tuples (the constant columns are appended with tuple addition, in C). In the
    background they are read at once, before this function returns."""
    opts = model._meta
    now = timezone.now()
    given = _fields(model, columns)
    given_names = {f.name for f in given}
    others = [f for f in opts.concrete_fields if not f.primary_key and f.name not in given_names]
    constants = tuple(f.get_db_prep_save(_default(f, now), connection) for f in others)
    fields = given + others
    names = ", ".join(_quote(f.column) for f in fields)
    table = _quote(opts.db_table)
    full_rows: Iterable[Sequence[Any]] = map(operator.add, rows, itertools.repeat(constants)) if constants else rows
    full_rows = _convert(full_rows, _converters(given) + [None] * len(others))
    if _writer() is not None:
        full_rows = list(full_rows)
        if not full_rows:
            return
    if connection.vendor == "postgresql":
        # Binary COPY: half the client CPU of the text format (measured: 0.5 s instead of
        # 1.0-1.5 s for 200,000 persons), and the server parses no text either.
        types = [_pg_type(f) for f in fields]
        sql = f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"

        def copy_job(cursor: Any, rows: Iterable[Sequence[Any]] = full_rows) -> None:
            with cursor.copy(sql) as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)

        _run(copy_job)
    else:
        placeholders = ", ".join([_placeholder()] * len(fields))
        sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608

        def insert_job(cursor: Any, rows: Iterable[Sequence[Any]] = full_rows) -> None:
            cursor.executemany(sql, rows)  # an iterator outside the background: consumed row by row

        _run(insert_job)


def update_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """UPDATE rows given as (values in the order of `columns`…, pk)."""
    if not rows:
        return
    opts = model._meta
    fields = _fields(model, columns)
    table = _quote(opts.db_table)
    pk = _quote(cast(str, opts.pk.column))
    converted = list(_convert(rows, _converters(fields) + [None]))
    if connection.vendor == "postgresql" and len(rows) > 500:
        # One UPDATE … FROM a COPY-filled temporary table: psycopg's executemany would send one
        # statement per row.
        cols = ", ".join(_quote(f.column) for f in fields)
        sets = ", ".join(f"{_quote(f.column)} = u.{_quote(f.column)}" for f in fields)

        def temp_table_job(cursor: Any) -> None:
            cursor.execute(
                f"CREATE TEMPORARY TABLE _cartable_update ON COMMIT DROP AS "  # noqa: S608
                f"SELECT {cols}, {pk} FROM {table} WITH NO DATA"
            )
            with cursor.copy(f"COPY _cartable_update ({cols}, {pk}) FROM STDIN") as copy:
                for row in converted:
                    copy.write_row(row)
            cursor.execute(f"UPDATE {table} SET {sets} FROM _cartable_update u WHERE {table}.{pk} = u.{pk}")  # noqa: S608
            cursor.execute("DROP TABLE _cartable_update")

        _run(temp_table_job)
    else:
        p = _placeholder()
        sets = ", ".join(f"{_quote(f.column)} = {p}" for f in fields)
        sql = f"UPDATE {table} SET {sets} WHERE {pk} = {p}"  # noqa: S608
        _run(lambda cursor: cursor.executemany(sql, converted))


def delete_ids(model: type[models.Model], ids: Sequence[int], batch: int = 900, column: str = "") -> None:
    """DELETE the rows whose primary key (or `column`) is in `ids`, in batches (SQLite caps the
    number of parameters)."""
    if not ids:
        return
    table = _quote(model._meta.db_table)
    key = _quote(column or cast(str, model._meta.pk.column))
    p = _placeholder()
    chunks = [list(ids[i : i + batch]) for i in range(0, len(ids), batch)]

    def delete_job(cursor: Any) -> None:
        for chunk in chunks:
            cursor.execute(f"DELETE FROM {table} WHERE {key} IN ({', '.join([p] * len(chunk))})", chunk)  # noqa: S608

    _run(delete_job)


# --- identifiers ----------------------------------------------------------------------------------


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """Primary keys for `count` new rows, so that rows referring to them can be built before the
    insert and no query is needed afterwards to learn them.

    PostgreSQL: taken from the table's sequence (safe under concurrency). SQLite: after the
    highest id ever used (AUTOINCREMENT keeps it in sqlite_sequence), then from a counter kept
    for the import (its own rows may still be waiting in the writer thread); safe because the
    import's transaction is IMMEDIATE (settings), so this connection holds the write lock.
    Ids set aside by `reserve_ids` are used first: taking them needs no query.
    """
    if count <= 0:
        return []
    reserved: dict[str, list[int]] = getattr(_local, "reserved", {})
    pool = reserved.get(model._meta.db_table)
    if pool is not None and len(pool) >= count:
        taken, reserved[model._meta.db_table] = pool[:count], pool[count:]
        return taken
    return _fetch_ids(model, count)


def reserve_ids(model: type[models.Model], count: int) -> None:
    """Set ids aside now (one query) for `allocate_ids` to hand out later without a query, which
    in the background would wait for the pending writes. Unused ids are a harmless gap."""
    if count <= 0:
        return
    reserved: dict[str, list[int]] = getattr(_local, "reserved", None) or {}
    _local.reserved = reserved
    reserved.setdefault(model._meta.db_table, []).extend(_fetch_ids(model, count))


def _fetch_ids(model: type[models.Model], count: int) -> list[int]:
    table = model._meta.db_table
    column = cast(str, model._meta.pk.column)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The sequence's name first: pg_get_serial_sequence per row would cost a catalog
            # lookup for each id (3.4 s instead of 0.3 s for 470,000 ids).
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
            return [row[0] for row in cursor.fetchall()]
    if connection.vendor != "sqlite":
        raise NotImplementedError(connection.vendor)
    if not connection.in_atomic_block:
        raise RuntimeError("allocate_ids needs the import's transaction (it holds the SQLite write lock)")
    # Within a write phase, continue after the ids handed out already (their rows may not be
    # written yet); outside one, ask the database every time.
    next_ids: dict[str, int] | None = getattr(_local, "next_ids", None)
    if next_ids is None:
        next_ids = {}
    start = next_ids.get(table)
    if start is None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX({_quote(column)}), 0) FROM {_quote(table)}")  # noqa: S608
            highest = int(cursor.fetchone()[0])
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
        start = max(highest, int(row[0]) if row else 0) + 1
    next_ids[table] = start + count
    return list(range(start, start + count))


# --- session settings -------------------------------------------------------------------------------


def immediate_constraints() -> None:
    """PostgreSQL: check foreign keys at each statement rather than all at COMMIT.

    Django declares them DEFERRABLE INITIALLY DEFERRED; a large import then spends 8 s at COMMIT
    running 2 million deferred checks, after everything else. Checked per statement, they run
    while the import still parses or prepares rows (see service), and a violation names its
    statement."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@contextmanager
def large_page_cache(mib: int = 1024) -> Iterator[None]:
    """SQLite keeps 2 MiB of pages per connection by default: the indexes of a large import do
    not fit and every insert re-reads B-tree pages from the OS. Raise the cache for the import
    (memory is returned when the connection closes or the cache is set back).

    A limit, not an allocation: pages are taken as the import touches them. 256 MiB held the
    100,000-pupil bench (a 150 MB database) but not 200,000 (300 MB), whose account and link
    inserts then cost 2.5 times as much for twice the rows."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = {-mib * 1024:d}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {previous:d}")
