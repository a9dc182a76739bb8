"""Kampus's own date and number formats, where Django's differ from how the language is written here."""
