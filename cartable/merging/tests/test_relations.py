"""Every relation to User must be decided for a merge: moved generically, or handled specially.

merge_accounts moves every relation to User it finds, except those listed in RELATIONS. This
test lists every relation in the installed apps and fails on any that RELATIONS does not name:
a new app (internal messaging, say) must add its relation to RELATIONS, either as MOVE (reviewed:
its rows follow the person) or with a special handling, before the suite passes again.
"""

from __future__ import annotations

from django.apps import apps

from cartable.merging.services import MOVE, MOVE_IF_FREE, RELATIONS, relations_to_user


def test_every_relation_to_user_is_decided():
    found = {key for key, _model, _field in relations_to_user()}
    undecided = sorted(found - set(RELATIONS))
    assert not undecided, (
        "Relations to User that a merge of accounts (cartable.merging.services.RELATIONS) does not "
        f"name: {undecided}. Say whether merge_accounts moves them (MOVE) or handles them otherwise."
    )


def test_the_table_names_no_relation_that_does_not_exist():
    """A typo would leave a relation undecided; an app not installed (yet) may be decided ahead."""
    found = {key for key, _model, _field in relations_to_user()}
    installed = {config.label for config in apps.get_app_configs()}
    assert sorted(key for key in set(RELATIONS) - found if key.split(".")[0] in installed) == []


def test_the_enumeration_sees_hidden_relations():
    """related_name="+" relations and many-to-many tables are not in User._meta.related_objects."""
    found = {key for key, _model, _field in relations_to_user()}
    assert {"accounts.AuditEvent.actor", "imports.ImportRun.started_by", "accounts.User_groups.user"} <= found
    assert RELATIONS["accounts.ExternalIdentity.user"][0] == MOVE_IF_FREE
    assert RELATIONS["admin.LogEntry.user"][0] == MOVE
