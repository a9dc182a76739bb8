"""English formats for Kampus: the day before the month, weeks from Monday (British usage, as in Europe).

Django's own ``en`` formats are American (``Dec. 4, 2026``, ``12/04/2026``, weeks from Sunday), which
reads wrongly, even ambiguously, on a Finnish campus. Finnish and Swedish keep Django's formats.
"""

DATE_FORMAT = "j M Y"  # 4 Dec 2026
TIME_FORMAT = "P"  # 2:30 p.m.
DATETIME_FORMAT = "j M Y, P"  # 4 Dec 2026, 2:30 p.m.
YEAR_MONTH_FORMAT = "F Y"  # December 2026
MONTH_DAY_FORMAT = "j F"  # 4 December
SHORT_DATE_FORMAT = "d/m/Y"  # 04/12/2026
SHORT_DATETIME_FORMAT = "d/m/Y P"  # 04/12/2026 2:30 p.m.
FIRST_DAY_OF_WEEK = 1  # Monday

# ISO first: the date inputs of the pages send it; then the day-month forms people type.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%y %H:%M",
]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
