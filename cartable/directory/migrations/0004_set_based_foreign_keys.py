"""PostgreSQL: the foreign keys a school import writes per row are checked per statement.

A 100,000-pupil import writes about 1.7 million values in these seven columns. PostgreSQL checks
a declared foreign key row by row (one query and one row lock per value, ~4.5 µs each): half of
the server's work during the import (bench/README.md). Here each of them is replaced by triggers
that check a whole statement at once (a COPY of 280,000 memberships: one merge join with the
referenced table's primary key), with the same guarantees:

- a new or changed value must exist in the referenced table, which is locked FOR KEY SHARE as
  PostgreSQL's own check does, so that no other transaction deletes it before this one ends
  (rows this transaction wrote itself are invisible to the others and need no lock);
- a referenced row cannot be deleted, nor its id changed, while a row refers to it (Django's
  on_delete still runs first: CASCADE and SET_NULL are emulated by Django, as before).

One difference: the checks run at the end of each statement, not at COMMIT (Django declares its
foreign keys DEFERRABLE INITIALLY DEFERRED). Write the referenced row first, which the code
always does; the importer had already made every check immediate (bulk.immediate_constraints).

SQLite keeps its declared foreign keys: there a check is a B-tree lookup costing ~0.2 µs, and
triggers would cost more than they save. The models still declare db_constraint=True, so that
SQLite keeps them: on PostgreSQL, a later migration altering one of these fields must keep
(or drop) these triggers explicitly.
"""

from django.db import migrations

# (table, column, referenced table): the columns written per row by cartable.imports.
CHECKED = [
    ("directory_person", "origin_etablissement_id", "directory_etablissement"),
    ("directory_membership", "person_id", "directory_person"),
    ("directory_membership", "etablissement_id", "directory_etablissement"),
    ("directory_membership", "division_id", "directory_division"),
    ("directory_guardianship", "pupil_id", "directory_person"),
    ("directory_guardianship", "guardian_id", "directory_person"),
    ("directory_guardianship", "etablissement_id", "directory_etablissement"),
]
# The same fields, as (model, field) for Django's schema editor.
MODEL_FIELDS = [
    ("Person", "origin_etablissement"),
    ("Membership", "person"),
    ("Membership", "etablissement"),
    ("Membership", "division"),
    ("Guardianship", "pupil"),
    ("Guardianship", "guardian"),
    ("Guardianship", "etablissement"),
]

FUNCTIONS = r"""
-- New rows of a statement (transition table new_rows): TG_ARGV[0] the column, TG_ARGV[1] the
-- referenced table. A merge join on the referenced table's primary key, within the range of the
-- new values: a large import's rows refer to a contiguous range (ids it has just taken), and the
-- planner, which has no statistics on transition tables, would otherwise probe the index once per
-- row (as slow as the per-row check) or hash the whole referenced table.
CREATE OR REPLACE FUNCTION cartable_fk_check_inserted() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_nestloop = off SET work_mem = '64MB' AS $$
DECLARE
    low bigint;
    high bigint;
    missing text;
BEGIN
    EXECUTE format('SELECT min(%1$I), max(%1$I) FROM new_rows', TG_ARGV[0]) INTO low, high;
    IF low IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format(
        'SELECT 1 FROM %2$I p WHERE p.id IN (SELECT n.%1$I FROM new_rows n) AND p.id BETWEEN $1 AND $2 '
        'AND p.xmin <> pg_current_xact_id()::xid FOR KEY SHARE OF p',
        TG_ARGV[0], TG_ARGV[1]) USING low, high;
    EXECUTE format(
        'SELECT n.id::text FROM (SELECT DISTINCT %1$I AS id FROM new_rows WHERE %1$I IS NOT NULL) n '
        'WHERE NOT EXISTS (SELECT FROM %2$I p WHERE p.id = n.id AND p.id BETWEEN $1 AND $2) LIMIT 1',
        TG_ARGV[0], TG_ARGV[1]) USING low, high INTO missing;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key "%"', TG_TABLE_NAME, TG_NAME
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (%s)=(%s) is not present in table "%s".', TG_ARGV[0], missing, TG_ARGV[1]);
    END IF;
    RETURN NULL;
END $$;

-- One row whose column changed (UPDATE): same check, for that row.
CREATE OR REPLACE FUNCTION cartable_fk_check_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    value bigint;
    found boolean;
BEGIN
    EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) USING NEW INTO value;
    IF value IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT true FROM %I p WHERE p.id = $1 FOR KEY SHARE OF p', TG_ARGV[1]) USING value INTO found;
    IF found IS NULL THEN
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key "%"', TG_TABLE_NAME, TG_NAME
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (%s)=(%s) is not present in table "%s".', TG_ARGV[0], value, TG_ARGV[1]);
    END IF;
    RETURN NULL;
END $$;

-- Deleted rows of a referenced table (old_rows): TG_ARGV holds (table, column) pairs referring
-- to them; none may still refer to a deleted row.
CREATE OR REPLACE FUNCTION cartable_fk_check_deleted() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
    i integer := 0;
    referenced text;
BEGIN
    WHILE i < TG_NARGS LOOP
        EXECUTE format(
            'SELECT o.id::text FROM old_rows o WHERE EXISTS (SELECT FROM %I c WHERE c.%I = o.id) LIMIT 1',
            TG_ARGV[i], TG_ARGV[i + 1]) INTO referenced;
        IF referenced IS NOT NULL THEN
            RAISE EXCEPTION 'update or delete on table "%" violates a foreign key of table "%"', TG_TABLE_NAME, TG_ARGV[i]
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('Key (id)=(%s) is still referenced from table "%s".', referenced, TG_ARGV[i]);
        END IF;
        i := i + 2;
    END LOOP;
    RETURN NULL;
END $$;

-- A referenced row whose id changes (never done by Django): refused while referred to.
CREATE OR REPLACE FUNCTION cartable_fk_check_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    i integer := 0;
    found boolean;
BEGIN
    WHILE i < TG_NARGS LOOP
        EXECUTE format('SELECT true FROM %I c WHERE c.%I = $1 LIMIT 1', TG_ARGV[i], TG_ARGV[i + 1])
            USING OLD.id INTO found;
        IF found THEN
            RAISE EXCEPTION 'update or delete on table "%" violates a foreign key of table "%"', TG_TABLE_NAME, TG_ARGV[i]
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('Key (id)=(%s) is still referenced from table "%s".', OLD.id, TG_ARGV[i]);
        END IF;
        i := i + 2;
    END LOOP;
    RETURN NEW;
END $$;
"""


def _referring(parent: str) -> list[tuple[str, str]]:
    return [(table, column) for table, column, referenced in CHECKED if referenced == parent]


def _literal_args(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(f"'{name}'" for pair in pairs for name in pair)


def _trigger_sql() -> list[str]:
    sql = [FUNCTIONS]
    for table, column, parent in CHECKED:
        sql.append(
            f'CREATE TRIGGER "{table}_{column}_fk_ins" AFTER INSERT ON "{table}" '
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION cartable_fk_check_inserted('{column}', '{parent}')"
        )
        sql.append(
            f'CREATE TRIGGER "{table}_{column}_fk_upd" AFTER UPDATE OF "{column}" ON "{table}" '
            f'FOR EACH ROW WHEN (OLD."{column}" IS DISTINCT FROM NEW."{column}") '
            f"EXECUTE FUNCTION cartable_fk_check_updated('{column}', '{parent}')"
        )
    for parent in sorted({parent for _table, _column, parent in CHECKED}):
        args = _literal_args(_referring(parent))
        sql.append(
            f'CREATE TRIGGER "{parent}_fk_del" AFTER DELETE ON "{parent}" '
            "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION cartable_fk_check_deleted({args})"
        )
        sql.append(
            f'CREATE TRIGGER "{parent}_fk_key" BEFORE UPDATE OF "id" ON "{parent}" '
            'FOR EACH ROW WHEN (OLD."id" IS DISTINCT FROM NEW."id") '
            f"EXECUTE FUNCTION cartable_fk_check_key_changed({args})"
        )
    return sql


def _fields(apps):
    for model_name, field_name in MODEL_FIELDS:
        model = apps.get_model("directory", model_name)
        yield model, model._meta.get_field(field_name)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, field in _fields(apps):
        for name in schema_editor._constraint_names(model, [field.column], foreign_key=True):
            schema_editor.execute(schema_editor._delete_fk_sql(model, name))
    for statement in _trigger_sql():
        schema_editor.execute(statement, params=None)  # no placeholders: the functions use %


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, _parent in CHECKED:
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_{column}_fk_ins" ON "{table}"')
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_{column}_fk_upd" ON "{table}"')
    for parent in sorted({parent for _table, _column, parent in CHECKED}):
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{parent}_fk_del" ON "{parent}"')
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{parent}_fk_key" ON "{parent}"')
    for function in ("inserted", "updated", "deleted", "key_changed"):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS cartable_fk_check_{function}()")
    for model, field in _fields(apps):
        schema_editor.execute(schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s"))


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0003_drop_redundant_indexes"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
