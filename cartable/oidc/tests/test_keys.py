"""The provider's keys: from the environment, from a file, or generated once into var/."""

from __future__ import annotations

import pytest

from cartable.oidc import keys


def test_rsa_key_is_generated_once_then_kept(tmp_path):
    first = keys.rsa_private_key("", "", tmp_path)
    assert first.startswith("-----BEGIN PRIVATE KEY-----")
    assert (tmp_path / "oidc_rsa_key.pem").stat().st_mode & 0o777 == 0o600
    assert keys.rsa_private_key("", "", tmp_path) == first


def test_rsa_key_from_the_environment_or_its_file(tmp_path):
    assert keys.rsa_private_key("PEM", "", tmp_path) == "PEM"
    (tmp_path / "cle.pem").write_text("FICHIER")
    assert keys.rsa_private_key("", str(tmp_path / "cle.pem"), tmp_path) == "FICHIER"
    with pytest.raises(ValueError, match="introuvable"):
        keys.rsa_private_key("", str(tmp_path / "absente.pem"), tmp_path)


def test_pairwise_key(tmp_path):
    generated = keys.pairwise_key("", "", tmp_path)
    assert len(generated) >= 60 and keys.pairwise_key("", "", tmp_path) == generated
    assert keys.pairwise_key("secret", "", tmp_path) == "secret"
    with pytest.raises(ValueError):
        keys.pairwise_key("", str(tmp_path / "absente"), tmp_path)
