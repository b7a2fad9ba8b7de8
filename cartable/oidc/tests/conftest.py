import pytest


@pytest.fixture(autouse=True)
def _issuer(settings):
    """The test client's host is the issuer (ID tokens and discovery name it)."""
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "http://testserver/oidc"}
