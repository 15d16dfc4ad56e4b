"""The pages' view of the shared catalogs (server/i18n.py), and where their messages come from."""

from __future__ import annotations

from pathlib import Path

from server.i18n import DOMAIN, LOCALE_DIR, N_, gettext, load_all, po_path, read_catalog, translations

__all__ = [
    "DOMAIN",
    "LANGUAGE_NAMES",
    "LOCALE_DIR",
    "N_",
    "PACKAGE_DIR",
    "gettext",
    "load_all",
    "po_path",
    "read_catalog",
    "translations",
]

PACKAGE_DIR = Path(__file__).resolve().parent

# each language named in itself: a person looks for their own language's name, not ours
LANGUAGE_NAMES = {"fr": "Français", "de": "Deutsch", "lb": "Lëtzebuergesch", "en": "English", "pt": "Português"}
