from django.urls import reverse


def test_public_home_offers_login_activation_and_help(client, db):
    response = client.get(reverse("portal:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Se connecter" in html
    assert reverse("portal:start") in html
    assert reverse("portal:activate") in html
    assert reverse("portal:help") in html
    assert 'href="#contenu"' in html and 'id="contenu"' in html  # skip link to main


def test_help_page(client, db):
    response = client.get(reverse("portal:help"))
    assert response.status_code == 200
    assert "Mémoriser ce choix" in response.content.decode()


def test_activation_page_asks_for_the_letters_credentials(client, db):
    html = client.get(reverse("portal:activate")).content.decode()
    assert "<h1>Activer mon compte</h1>" in html
    assert "Mot de passe provisoire" in html


def test_no_inline_script_or_style(client, parent):
    """The CSP forbids inline code: no page may rely on it."""
    from cartable.portal.tests.helpers import log_in

    pages = [reverse("portal:index"), reverse("portal:start"), reverse("portal:start") + "?profil=eleve_parent",
             reverse("portal:login"), reverse("portal:help")]
    log_in(client, parent.username)
    pages.append(reverse("portal:home"))
    for url in pages:
        html = client.get(url).content.decode()
        assert "<style" not in html and " style=" not in html, url
        assert "<script>" not in html and "onclick" not in html, url
