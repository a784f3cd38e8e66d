"""The panel in Spanish: sqladmin's own strings from our catalog, whatever the browser asks for.

sqladmin 0.32 translates its templates (and the value of the submit buttons it compares when a form
is saved) through ``sqladmin.i18n`` with Babel, but ships no Spanish catalog and has no hook to add one:
its catalogs live in a module-level dict keyed by locale.  ``espanol`` loads ours
(``traducciones/es/LC_MESSAGES/admin.po``, compiled to the committed ``admin.mo`` by
``make catalogo-admin``) into that dict and returns the configuration that makes it the only locale:
no cookie, no ``Accept-Language``, no language menu.
"""

from __future__ import annotations

from pathlib import Path

from babel.support import Translations
from sqladmin import i18n

LOCALE = "es"
CATALOGOS = Path(__file__).parent / "traducciones"


def espanol() -> i18n.I18nConfig:
    """Register the Spanish catalog with sqladmin (idempotent) and return the panel's language settings.

    Raises:
        FileNotFoundError: the compiled catalog is missing from the package.
    """
    if not isinstance(i18n.translations.get(LOCALE), Translations):
        mo = CATALOGOS / LOCALE / "LC_MESSAGES" / "admin.mo"
        with mo.open("rb") as archivo:
            i18n.translations[LOCALE] = Translations(archivo, domain="admin")
    return i18n.I18nConfig(
        default_locale=LOCALE, language_cookie_name=None, language_header_name=None, language_switcher=None
    )
