"""No table of its own: a merge changes accounts (accounts.User), and the trail is the audit.

`ProbableDuplicate` is a proxy of User that gives the staff console its « Doublons probables »
screen (cartable.merging.admin), under « Regroupement de comptes ».
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cartable.accounts.models import User


class ProbableDuplicate(User):
    class Meta:
        proxy = True
        verbose_name = _("doublon probable")
        verbose_name_plural = _("doublons probables")
        # The proxy's own permissions are never granted: console access follows the directory
        # (cartable.directory.admin), and a superuser has them all.
        default_permissions = ()
