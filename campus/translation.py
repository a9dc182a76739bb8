"""Translated reference data: a column per language (fi, sv, en) for names that people read.

django-modeltranslation adds ``name_fi``, ``name_sv`` and ``name_en`` next to ``name``; reading
``name`` gives the active language's value, falling back to Finnish and then to any filled
language (``MODELTRANSLATION_FALLBACK_LANGUAGES`` in the settings). Codes, room names and
addresses are proper names and stay as they are; room kinds are choices translated by gettext.
"""

from modeltranslation.translator import TranslationOptions, register

from campus.models import Equipment, Holiday, OpeningHoursException, TermPeriod


@register(Equipment)
class EquipmentTranslation(TranslationOptions):
    fields = ("name",)


@register(Holiday)
class HolidayTranslation(TranslationOptions):
    fields = ("name",)


@register(OpeningHoursException)
class OpeningHoursExceptionTranslation(TranslationOptions):
    fields = ("reason",)


@register(TermPeriod)
class TermPeriodTranslation(TranslationOptions):
    fields = ("name",)
