"""Version 1 of the ENT's charter (« charte d'utilisation »), asked at every activation.

A deployment edits it in the console by publishing a new version (asked again at the next login).
"""

from django.db import migrations

TITLE = "Charte d'utilisation de l'espace numérique de travail"

TEXT = """\
Cette charte s'applique à toute personne qui utilise l'espace numérique de travail (ENT) mis à sa disposition par l'établissement : élèves, parents et responsables légaux, personnels de l'établissement et de l'Éducation nationale, personnels des collectivités et invités. Elle s'ajoute au règlement intérieur de l'établissement. En l'acceptant, vous vous engagez à la respecter.

# 1. À quoi sert l'ENT
L'ENT est un ensemble de services numériques choisi et organisé par l'établissement pour la communauté éducative : informations de l'établissement, vie scolaire, travail en classe et à la maison, échanges entre les élèves, les familles et les personnels. Il s'utilise uniquement dans le cadre de la scolarité et des activités éducatives, dans l'établissement ou en dehors.

# 2. Votre compte est personnel
- Votre identifiant et votre mot de passe sont personnels : ne les communiquez à personne, pas même à un proche, à un camarade ou à un membre du personnel. Personne ne vous les demandera, ni par courriel ni par téléphone.
- Chaque parent ou responsable a son propre compte, distinct de celui de son enfant : n'utilisez pas le compte d'une autre personne.
- Choisissez un mot de passe difficile à deviner, que vous n'utilisez pas ailleurs, et déconnectez-vous après usage sur un ordinateur partagé.
- Vous êtes responsable de ce qui est fait avec votre compte. Si vous pensez que quelqu'un d'autre connaît votre mot de passe, changez-le et prévenez l'établissement.

# 3. Respecter les autres
- Les échanges sur l'ENT restent polis et bienveillants. Sont interdits les propos injurieux, diffamatoires, discriminatoires, racistes, sexistes, violents ou à caractère pornographique, le harcèlement, y compris en groupe, et les menaces.
- Ne publiez ni ne diffusez de photo, de vidéo, d'enregistrement ou d'information sur une autre personne sans son accord (ou celui de ses responsables légaux pour un mineur) : c'est le droit à l'image et le respect de la vie privée.
- Respectez le droit d'auteur : ne déposez que des documents que vous avez le droit de partager, en citant leurs sources.
- Ne vous faites pas passer pour quelqu'un d'autre.

# 4. Utiliser les services correctement
- N'essayez pas d'accéder à des informations ou à des services qui ne vous sont pas destinés, ni de contourner les protections de l'ENT.
- Ne déposez aucun fichier malveillant et n'utilisez pas l'ENT à des fins commerciales, publicitaires ou politiques.
- Si vous découvrez un contenu choquant, une faille ou une utilisation anormale, signalez-le à l'établissement.

# 5. Vos données personnelles
- L'ENT est un traitement de données personnelles mis en œuvre dans le cadre de la mission de service public d'enseignement, conformément à l'arrêté du 30 novembre 2006 relatif aux espaces numériques de travail. Seules les données nécessaires y sont traitées : identité, profil, rattachement à l'établissement et à la classe, liens entre élèves et responsables, et les coordonnées que vous choisissez d'indiquer.
- Ces données sont réservées à l'établissement, à l'académie, à la collectivité partenaire et au prestataire qui héberge l'ENT pour leur compte. Elles ne sont ni vendues ni utilisées à des fins publicitaires.
- Les données d'un compte sont supprimées dans les trois mois qui suivent la fin du droit d'accès à l'ENT. Un compte jamais activé est désactivé trois mois après la remise des identifiants et supprimé au bout d'un an.
- Conformément à la loi n° 78-17 du 6 janvier 1978 modifiée (« Informatique et Libertés ») et au règlement général sur la protection des données (RGPD), vous disposez d'un droit d'accès, de rectification, d'effacement et de limitation des données qui vous concernent, ainsi que d'un droit d'opposition dans les cas prévus par la loi. Pour les exercer, adressez-vous à l'établissement. Vous pouvez aussi saisir la CNIL (www.cnil.fr).

# 6. Contrôles et sanctions
L'établissement et l'hébergeur conservent des traces techniques des connexions pour la sécurité de l'ENT. En cas de manquement à cette charte, l'accès à l'ENT peut être suspendu, sans préjudice des sanctions prévues par le règlement intérieur et des poursuites prévues par la loi.
"""


def create_charter(apps, schema_editor):
    Charter = apps.get_model("accounts", "Charter")
    if not Charter.objects.filter(version=1).exists():
        Charter.objects.create(version=1, title=TITLE, text=TEXT)


def remove_charter(apps, schema_editor):
    Charter = apps.get_model("accounts", "Charter")
    Charter.objects.filter(version=1, acceptances__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_lifecycle_foundations")]

    operations = [migrations.RunPython(create_charter, remove_charter)]
