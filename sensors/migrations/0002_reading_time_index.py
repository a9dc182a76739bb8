"""An index on the readings' time for scans of a time slot across all rooms (rollups, retention).

PostgreSQL: BRIN, a few pages for millions of rows, because readings are stored in arrival order,
which follows their time (docs/performance.md measures it against a B-tree on (room, ts)).
SQLite has no BRIN: a B-tree.
"""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE INDEX reading_ts_brin ON sensors_reading USING brin (ts)")
    else:
        schema_editor.execute("CREATE INDEX reading_ts ON sensors_reading (ts)")


def drop_index(apps, schema_editor):
    name = "reading_ts_brin" if schema_editor.connection.vendor == "postgresql" else "reading_ts"
    schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("sensors", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
