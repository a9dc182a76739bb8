"""Let the retention purge (and only it) delete old audit events on PostgreSQL.

The append-only trigger now lets a DELETE through when the transaction has set
``kampus.retention_purge`` (``SET LOCAL``, see bookings/retention.py); UPDATE stays refused.
"""

from django.db import migrations

REPLACE = """
CREATE OR REPLACE FUNCTION bookings_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('kampus.retention_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'bookings_bookingevent is append-only';
END;
$$ LANGUAGE plpgsql;
"""

ORIGINAL = """
CREATE OR REPLACE FUNCTION bookings_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'bookings_bookingevent is append-only';
END;
$$ LANGUAGE plpgsql;
"""


def allow_purge(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REPLACE)


def refuse_purge(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ORIGINAL)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0005_schedules")]

    operations = [migrations.RunPython(allow_purge, refuse_purge)]
