"""Translated closure reasons (see campus/translation.py): a reason may be given in fi, sv and en."""

from modeltranslation.translator import TranslationOptions, register

from bookings.models import Closure


@register(Closure)
class ClosureTranslation(TranslationOptions):
    fields = ("reason",)
