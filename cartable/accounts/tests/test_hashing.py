"""Password hashing: Argon2 parameters come from settings, and old hashes are upgraded at login."""

from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse

from cartable.conftest import PASSWORD


def argon2_params(encoded: str) -> dict[str, int]:
    params = identify_hasher(encoded).decode(encoded)
    return {"time_cost": params["time_cost"], "memory_cost": params["memory_cost"], "parallelism": params["parallelism"]}


def test_passwords_are_hashed_with_argon2id_and_the_configured_parameters(parent, settings):
    assert parent.password.startswith("argon2$argon2id$")
    assert argon2_params(parent.password) == {
        "time_cost": settings.ARGON2_TIME_COST,
        "memory_cost": settings.ARGON2_MEMORY_COST_KIB,
        "parallelism": settings.ARGON2_PARALLELISM,
    }


def test_password_hashed_with_other_parameters_is_rehashed_at_login(client, parent, settings):
    old_hash = parent.password
    settings.ARGON2_TIME_COST = 2
    settings.ARGON2_MEMORY_COST_KIB = 128
    response = client.post(reverse("portal:login"), {"identifiant": parent.username, "mot_de_passe": PASSWORD})
    assert response.status_code == 302
    parent.refresh_from_db()
    assert parent.password != old_hash
    assert argon2_params(parent.password) == {"time_cost": 2, "memory_cost": 128, "parallelism": 1}
    assert parent.check_password(PASSWORD)


def test_failed_login_does_not_rehash(client, parent, settings):
    old_hash = parent.password
    settings.ARGON2_TIME_COST = 2
    client.post(reverse("portal:login"), {"identifiant": parent.username, "mot_de_passe": "pas-le-bon"})
    parent.refresh_from_db()
    assert parent.password == old_hash


def test_pbkdf2_hash_is_upgraded_to_argon2_at_login(client, parent):
    from django.contrib.auth.hashers import make_password

    parent.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    parent.save()
    assert client.post(
        reverse("portal:login"), {"identifiant": parent.username, "mot_de_passe": PASSWORD}
    ).status_code == 302
    parent.refresh_from_db()
    assert parent.password.startswith("argon2$argon2id$")
