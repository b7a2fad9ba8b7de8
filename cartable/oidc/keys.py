"""The provider's keys, read at start-up by the settings (no Django import here).

- The RS256 key that signs ID tokens (published in the JWKS): OIDC_RSA_PRIVATE_KEY (PEM text) or
  OIDC_RSA_PRIVATE_KEY_FILE; without either, one is generated once into var/oidc_rsa_key.pem,
  like the demo's SECRET_KEY. A production deployment sets its own and keeps it: relying
  parties cache the JWKS, so a changed key breaks logins until they fetch it again.
- The key of pairwise subject identifiers (cartable.oidc.claims): OIDC_PAIRWISE_KEY or
  OIDC_PAIRWISE_KEY_FILE, else var/oidc_pairwise_key. Losing it changes every `sub`.
"""

from __future__ import annotations

import secrets
from pathlib import Path


def _write_private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


def rsa_private_key(value: str, file: str, var_dir: Path) -> str:
    """PEM of the ID-token signing key: the setting's value, its file, or a generated one."""
    if value:
        return value
    path = Path(file) if file else var_dir / "oidc_rsa_key.pem"
    if not path.exists():
        if file:
            raise ValueError(f"OIDC_RSA_PRIVATE_KEY_FILE : fichier introuvable ({path}).")
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        _write_private(path, pem)
    return path.read_text()


def pairwise_key(value: str, file: str, var_dir: Path) -> str:
    """Secret of the pairwise `sub` HMAC: the setting's value, its file, or a generated one."""
    if value:
        return value
    path = Path(file) if file else var_dir / "oidc_pairwise_key"
    if not path.exists():
        if file:
            raise ValueError(f"OIDC_PAIRWISE_KEY_FILE : fichier introuvable ({path}).")
        _write_private(path, secrets.token_urlsafe(48))
    return path.read_text().strip()
