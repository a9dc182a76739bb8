"""Bookings remember when their personal data was removed; the audit log lets that erasure through.

On PostgreSQL the append-only trigger of the audit log now also lets an UPDATE through when the
transaction has set ``kampus.personal_data_erasure`` (``SET LOCAL``, see bookings/anonymising.py):
anonymising a booking scrubs the people out of its events' snapshots. A DELETE still needs
``kampus.retention_purge``; everything else stays refused.
"""

from django.db import migrations, models

REPLACE = """
CREATE OR REPLACE FUNCTION bookings_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('kampus.retention_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND current_setting('kampus.personal_data_erasure', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'bookings_bookingevent is append-only';
END;
$$ LANGUAGE plpgsql;
"""

PREVIOUS = """
CREATE OR REPLACE FUNCTION bookings_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('kampus.retention_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'bookings_bookingevent is append-only';
END;
$$ LANGUAGE plpgsql;
"""


def allow_erasure(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REPLACE)


def refuse_erasure(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0012_check_in_and_no_shows")]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="anonymised_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="anonymised at"),
        ),
        migrations.RunPython(allow_erasure, refuse_erasure),
    ]
