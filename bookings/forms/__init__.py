"""Page forms of bookings, by page, over shared widgets and one domain-error adapter.

- ``widgets``: date and time inputs, a list of dates, dates within the accepted years;
- ``words``: dates and durations in words;
- ``repeat``: the repeat editor's choice and its two renderings (an RFC 5545 rule, a sentence);
- ``booking``: finding a free room and the booking form;
- ``mine``: changing, cancelling and handing over one's bookings;
- ``manage``: deciding requests and closing rooms or buildings;
- ``errors``: ``add_domain_error``, which shows a service's refusal as form errors (pages and admin).

Import from the module that defines a name; the repeat editor's names are also here.
"""

from bookings.forms.repeat import RepeatChoice, repeat_choice_from_rrule, repeat_rule, repeat_summary

__all__ = ["RepeatChoice", "repeat_choice_from_rrule", "repeat_rule", "repeat_summary"]
