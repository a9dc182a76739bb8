"""The audit log's erasure rewrites only the people out of an event, never what happened, to what, or when.

Migration 0013 let any UPDATE through while ``kampus.personal_data_erasure`` is set. Now such an
UPDATE must keep the event's id, booking, action and time, and may only clear the actor (or keep
it); the reason and the before/after snapshots are what the erasure rewrites (bookings/anonymising.py).
"""

from django.db import migrations


REPLACE = """
CREATE OR REPLACE FUNCTION bookings_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('kampus.retention_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND current_setting('kampus.personal_data_erasure', true) = 'on'
        AND NEW.id = OLD.id
        AND NEW.booking_id = OLD.booking_id
        AND NEW.action = OLD.action
        AND NEW.at = OLD.at
        AND (NEW.actor_id IS NULL OR NEW.actor_id = OLD.actor_id) THEN
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
    IF TG_OP = 'UPDATE' AND current_setting('kampus.personal_data_erasure', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'bookings_bookingevent is append-only';
END;
$$ LANGUAGE plpgsql;
"""


def keep_what_happened(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REPLACE)


def allow_any_erasure_update(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0013_personal_data_erasure")]

    operations = [migrations.RunPython(keep_what_happened, allow_any_erasure_update)]
