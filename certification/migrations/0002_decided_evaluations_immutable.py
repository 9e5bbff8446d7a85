"""The database refuses any change to a decided evaluation: the record of a decision stays as it was made.

An appeal or a downgrade that changes the level is a new evaluation that revises the decided one.
"""

from django.db import migrations

SQLITE_CREATE = """
CREATE TRIGGER certification_evaluation_decided_immutable
BEFORE UPDATE ON certification_evaluation
FOR EACH ROW WHEN OLD.status = 'decided'
BEGIN
    SELECT RAISE(ABORT, 'a decided evaluation cannot be changed');
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS certification_evaluation_decided_immutable;"

POSTGRESQL_CREATE = """
CREATE OR REPLACE FUNCTION certification_evaluation_decided_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a decided evaluation cannot be changed' USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER certification_evaluation_decided_immutable
BEFORE UPDATE ON certification_evaluation
FOR EACH ROW WHEN (OLD.status = 'decided')
EXECUTE FUNCTION certification_evaluation_decided_immutable();
"""
POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS certification_evaluation_decided_immutable ON certification_evaluation;
DROP FUNCTION IF EXISTS certification_evaluation_decided_immutable();
"""


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_CREATE)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP)


class Migration(migrations.Migration):
    replaces = [("certification", "0007_decided_evaluations_immutable")]

    dependencies = [("certification", "0001_squashed_0006_star_evaluation_workflow")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
