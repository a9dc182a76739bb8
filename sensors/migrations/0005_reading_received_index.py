"""An index on the readings' arrival time, for the rollup's "received since the last run" query.

PostgreSQL: BRIN, like the one on ts (migration 0002): readings are stored in arrival order, so a
few pages find the last minutes' rows among millions. SQLite has no BRIN: a B-tree.
"""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE INDEX reading_received_brin ON sensors_reading USING brin (received_at)")
    else:
        schema_editor.execute("CREATE INDEX reading_received ON sensors_reading (received_at)")


def drop_index(apps, schema_editor):
    name = "reading_received_brin" if schema_editor.connection.vendor == "postgresql" else "reading_received"
    schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("sensors", "0004_sensor_health")]

    operations = [migrations.RunPython(create_index, drop_index)]
