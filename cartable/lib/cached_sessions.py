"""SESSION_ENGINE = "cartable.lib.cached_sessions": database sessions read through the cache.

Used with Redis (production): sessions survive a Redis restart, and reads cost no query. Writes
once per new session, as cartable.lib.sessions explains.
"""

from __future__ import annotations

from django.contrib.sessions.backends import cached_db

from .sessions import WriteOnce


class SessionStore(WriteOnce, cached_db.SessionStore):
    pass
