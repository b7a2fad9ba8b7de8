"""PostgreSQL: accounts_user.person_id is checked per statement too (see 0004).

A large import creates an account per person (270,000 for 100,000 pupils): the last foreign key
it wrote row by row. Same triggers as 0004; the account's on_delete=PROTECT is still Django's,
and the database still refuses to delete a person who has an account. It lives here, with the
triggers of the other references to directory_person.
"""

import importlib

from django.db import migrations

previous = importlib.import_module("cartable.directory.migrations.0004_set_based_foreign_keys")

TABLE, COLUMN, PARENT = "accounts_user", "person_id", "directory_person"


def _parent_triggers(pairs: list[tuple[str, str]]) -> list[str]:
    args = ", ".join(f"'{name}'" for pair in pairs for name in pair)
    return [
        f'DROP TRIGGER IF EXISTS "{PARENT}_fk_del" ON "{PARENT}"',
        f'DROP TRIGGER IF EXISTS "{PARENT}_fk_key" ON "{PARENT}"',
        f'CREATE TRIGGER "{PARENT}_fk_del" AFTER DELETE ON "{PARENT}" '
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION cartable_fk_check_deleted({args})",
        f'CREATE TRIGGER "{PARENT}_fk_key" BEFORE UPDATE OF "id" ON "{PARENT}" '
        'FOR EACH ROW WHEN (OLD."id" IS DISTINCT FROM NEW."id") '
        f"EXECUTE FUNCTION cartable_fk_check_key_changed({args})",
    ]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("accounts", "User")
    for name in schema_editor._constraint_names(model, [COLUMN], foreign_key=True):
        schema_editor.execute(schema_editor._delete_fk_sql(model, name))
    statements = [
        f'CREATE TRIGGER "{TABLE}_{COLUMN}_fk_ins" AFTER INSERT ON "{TABLE}" '
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION cartable_fk_check_inserted('{COLUMN}', '{PARENT}')",
        f'CREATE TRIGGER "{TABLE}_{COLUMN}_fk_upd" AFTER UPDATE OF "{COLUMN}" ON "{TABLE}" '
        f'FOR EACH ROW WHEN (OLD."{COLUMN}" IS DISTINCT FROM NEW."{COLUMN}") '
        f"EXECUTE FUNCTION cartable_fk_check_updated('{COLUMN}', '{PARENT}')",
        *_parent_triggers([*previous._referring(PARENT), (TABLE, COLUMN)]),
    ]
    for statement in statements:
        schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP TRIGGER IF EXISTS "{TABLE}_{COLUMN}_fk_ins" ON "{TABLE}"')
    schema_editor.execute(f'DROP TRIGGER IF EXISTS "{TABLE}_{COLUMN}_fk_upd" ON "{TABLE}"')
    for statement in _parent_triggers(previous._referring(PARENT)):
        schema_editor.execute(statement, params=None)
    model = apps.get_model("accounts", "User")
    schema_editor.execute(
        schema_editor._create_fk_sql(model, model._meta.get_field("person"), "_fk_%(to_table)s_%(to_column)s")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0004_set_based_foreign_keys"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
