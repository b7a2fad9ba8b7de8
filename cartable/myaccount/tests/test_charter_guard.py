from django.urls import reverse

from cartable.accounts.models import Charter
from cartable.conftest import PASSWORD


def test_mon_compte_asks_for_a_new_charter_first(client, parent):
    Charter.objects.create(version=(Charter.current().version + 1), text="Nouvelle charte")
    client.login(username=parent.username, password=PASSWORD)
    response = client.get(reverse("myaccount:security"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("activation:charter_update"))
