"""No two overlapping blocks of one room part — enforced by PostgreSQL.

Runs only on PostgreSQL (the SQLite default has no exclusion constraints; there the booking
service checks overlaps inside an IMMEDIATE transaction). The constraint is kept out of the
model's Meta so that SQLite never tries to create it.
"""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.db import migrations, models

CONSTRAINT_NAME = "block_no_overlap_per_part"



def _constraint() -> ExclusionConstraint:
    from django.contrib.postgres.fields import DateTimeRangeField

    class Range(models.Func):
        function = "TSTZRANGE"
        output_field = DateTimeRangeField()

    return ExclusionConstraint(
        name=CONSTRAINT_NAME,
        expressions=[
            ("part", RangeOperators.EQUAL),
            (Range("start", "blocked_until", RangeBoundary(inclusive_lower=True, inclusive_upper=False)), RangeOperators.OVERLAPS),
        ],
    )


def add_exclusion_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.add_constraint(apps.get_model("bookings", "BookingBlock"), _constraint())


def remove_exclusion_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.remove_constraint(apps.get_model("bookings", "BookingBlock"), _constraint())


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [migrations.RunPython(add_exclusion_constraint, remove_exclusion_constraint)]
