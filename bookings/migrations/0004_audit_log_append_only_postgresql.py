"""The booking audit log refuses UPDATE and DELETE on PostgreSQL (a trigger), not only in the ORM."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION bookings_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'bookings_bookingevent is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER bookings_event_append_only
    BEFORE UPDATE OR DELETE ON bookings_bookingevent
    FOR EACH ROW EXECUTE FUNCTION bookings_event_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS bookings_event_append_only ON bookings_bookingevent;
DROP FUNCTION IF EXISTS bookings_event_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0003_rules_workflow_audit")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
