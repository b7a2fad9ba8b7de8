"""The two queries every ticket validation makes, in SQL built once from the models' metadata.

Why not the ORM here: profiling p3/serviceValidate (bench/sso.py) showed two thirds of its time
in Django compiling the same three queries for each request (a five-table select_related alone
cost more than a whole plain view). The SQL below is what the ORM would send, written once:
table and column names come from `_meta`, values are always parameters, and the rows are turned
back into the usual model instances (related objects cached), so the rest of the code and the
tests see no difference. Everything else (issuing, logout, proxy) stays on the ORM.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from django.db import connection

from cartable.accounts.models import User
from cartable.directory.models import Division, Etablissement, Membership, Person

from .models import Service, Ticket

# The columns read, per model (attnames); put in the model's field order by _ordered().
_TICKET = ("id", "kind", "user_id", "service_id", "url", "session_key", "primary", "parent_id")
_USER = ("id", "username", "is_active", "person_id")
_PERSON = ("id", "first_name", "last_name", "birth_date")
_SERVICE = (
    "id", "etablissement_id", "name", "service_patterns", "released_attributes", "attribute_profile",
    "single_logout", "proxy_allowed", "active",
)  # fmt: skip
_ETAB = ("id", "uai", "name", "current_year")


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _ordered(model: Any, names: tuple[str, ...]) -> list[str]:
    # Model.from_db() expects the loaded values in the order of the model's concrete fields.
    order = [f.attname for f in model._meta.concrete_fields]
    return sorted(names, key=order.index)


def _columns(alias: str, model: Any, names: tuple[str, ...]) -> list[str]:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return [f"{alias}.{_q(fields[n].column)}" for n in _ordered(model, names)]


@cache
def _lookup_sql() -> str:
    t, u, p, s, e = (_q(m._meta.db_table) for m in (Ticket, User, Person, Service, Etablissement))
    select = [
        *_columns("t", Ticket, _TICKET),
        *_columns("u", User, _USER),
        *_columns("p", Person, _PERSON),
        *_columns("s", Service, _SERVICE),
        *_columns("e", Etablissement, _ETAB),
    ]
    return (
        f"SELECT {', '.join(select)} FROM {t} t"  # noqa: S608  (names from _meta, values as parameters)
        f" JOIN {u} u ON u.{_q('id')} = t.{_q('user_id')}"
        f" LEFT JOIN {p} p ON p.{_q('id')} = u.{_q('person_id')}"
        f" JOIN {s} s ON s.{_q('id')} = t.{_q('service_id')}"
        f" JOIN {e} e ON e.{_q('id')} = s.{_q('etablissement_id')}"
        f" WHERE t.{_q('digest')} = %s AND t.{_q('kind')} IN (%s, %s)"
    )


def _date(value: Any) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _instance(model: Any, names: tuple[str, ...], values: Iterator[Any]) -> Any:
    """A model instance as the ORM loads one: the other fields deferred, so that saving it
    would write only the loaded fields (never defaults over the real values)."""
    ordered = _ordered(model, names)
    return model.from_db(connection.alias, ordered, [next(values) for _ in ordered])


def lookup(digest: str) -> Ticket | None:
    """The ST or PT with this digest, its user (and person), service (and établissement)."""
    with connection.cursor() as cursor:
        cursor.execute(_lookup_sql(), [digest, Ticket.Kind.SERVICE, Ticket.Kind.PROXY])
        row = cursor.fetchone()
    if row is None:
        return None
    values = iter(row)
    ticket = _instance(Ticket, _TICKET, values)
    user = _instance(User, _USER, values)
    person_row = [next(values) for _ in _PERSON]  # before the service's columns: the SELECT's order
    service = _instance(Service, _SERVICE, values)
    etab = _instance(Etablissement, _ETAB, values)
    if user.person_id is not None:
        person = _instance(Person, _PERSON, iter(person_row))
        person.birth_date = _date(person.birth_date)
        user.person = person
    else:
        user.person = None  # type: ignore[assignment]
    # SQLite gives booleans as 0/1 and JSON as text: what the ORM's converters would do.
    ticket.primary = bool(ticket.primary)
    user.is_active = bool(user.is_active)
    service.active, service.single_logout = bool(service.active), bool(service.single_logout)
    service.proxy_allowed = bool(service.proxy_allowed)
    service.released_attributes = _json(service.released_attributes) or []
    service.etablissement = etab
    ticket.user, ticket.service = user, service
    return ticket


@cache
def _claim_sql() -> str:
    t = _q(Ticket._meta.db_table)
    return (
        f"UPDATE {t} SET {_q('used_at')} = %s"  # noqa: S608  (names from _meta, values as parameters)
        f" WHERE {_q('id')} = %s AND {_q('used_at')} IS NULL AND {_q('expires_at')} > %s"
    )


def claim(ticket_id: int, now: datetime.datetime) -> bool:
    """Mark the ticket used if it is unused and unexpired: one conditional UPDATE (atomic)."""
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(), [stamp, ticket_id, stamp])
        return cursor.rowcount == 1


@cache
def _memberships_sql() -> str:
    m, d, u = _q(Membership._meta.db_table), _q(Division._meta.db_table), _q(User._meta.db_table)
    # The account's persons: its own and those of the accounts merged into it (regroupement,
    # cartable.accounts.persons), in the same statement rather than one more query.
    return (
        f"SELECT m.{_q('profile')}, d.{_q('code')} FROM {m} m"  # noqa: S608  (names from _meta, values as parameters)
        f" LEFT JOIN {d} d ON d.{_q('id')} = m.{_q('division_id')}"
        f" WHERE m.{_q('person_id')} IN (SELECT {_q('person_id')} FROM {u}"
        f" WHERE {_q('id')} = %s OR {_q('merged_into_id')} = %s)"
        f" AND m.{_q('etablissement_id')} = %s AND m.{_q('departed_at')} IS NULL"
        f" ORDER BY m.{_q('profile')}"
    )


def memberships(user_id: int, etablissement_id: int) -> list[tuple[str, str | None]]:
    """(profile, class code or None) of the account's current memberships in the établissement."""
    with connection.cursor() as cursor:
        cursor.execute(_memberships_sql(), [user_id, user_id, etablissement_id])
        return list(cursor.fetchall())
