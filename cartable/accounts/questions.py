"""The sixteen secret questions of seed 003, offered when no e-mail address is given.

Answers are compared without case, accents or extra spaces (`lib.text.normalise_answer`) and
stored hashed with the password hasher, like passwords.
"""

from django.utils.translation import gettext_lazy as _

QUESTIONS = [
    _("Quel était votre surnom d'enfance ?"),
    _("Quel était le nom de votre première peluche ?"),
    _("Dans quelle rue avez-vous vécu en primaire ?"),
    _("Quel est le prénom de votre ami d'enfance préféré ?"),
    _("Quel est le deuxième prénom de votre frère ou sœur ?"),
    _("Quel est le prénom de votre enfant le plus âgé ?"),
    _("Quel était votre premier numéro de téléphone ?"),
    _("Quel est le nom et le prénom de votre cousin le plus âgé ?"),
    _("Dans quelle ville votre mère et votre père se sont-ils rencontrés ?"),
    _("Quel était le nom de famille de votre maître de CM2 ?"),
    _("Dans quelle ville vit votre frère ou sœur le plus proche ?"),
    _("Quel est le mois et l'année de l'anniversaire de votre frère ou sœur aîné ? (ex. Janvier 1900)"),
    _("Quel est le nom de jeune fille de votre grand-mère maternelle ?"),
    _("Quel est votre film préféré ?"),
    _("Quel est le nom de votre animal préféré ?"),
    _("Quel est le nom de jeune fille de votre grand-mère paternelle ?"),
]
