"""Argon2id with parameters taken from settings (ARGON2_* in the environment).

The algorithm name stays "argon2", so hashes made with other parameters still verify, and
Django's `must_update` (which compares the stored parameters with these) makes `check_password`
rehash the password at the next successful login after the parameters change.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class CartableArgon2Hasher(Argon2PasswordHasher):
    @property
    def time_cost(self) -> int:  # type: ignore[override]
        return settings.ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:  # type: ignore[override]
        return settings.ARGON2_MEMORY_COST_KIB

    @property
    def parallelism(self) -> int:  # type: ignore[override]
        return settings.ARGON2_PARALLELISM
