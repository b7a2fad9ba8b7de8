import pytest


@pytest.fixture(autouse=True)
def _issuer(settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "http://testserver/oidc"}
