from celery import shared_task
from oauth2_provider.models import clear_expired


@shared_task(name="cartable.oidc.clear_tokens")
def clear_tokens() -> None:
    """Nightly: delete expired access, refresh and ID tokens and grants (`manage.py cleartokens`)."""
    clear_expired()
