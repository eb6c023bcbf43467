"""The interface's languages: gettext catalogues, and the language of the code running now.

Every user-facing string is written in English inside ``_("...")`` (or ``ngettext`` for counted
ones, ``N_`` where a string is defined before it can be translated, such as a module-level
table), so that Babel's extractor finds it:

    pybabel extract -F babel.cfg -o seattn/locale/seattn.pot .
    pybabel update -i seattn/locale/seattn.pot -d seattn/locale -D seattn

(``make translations`` runs both). The translations live in
``seattn/locale/<language>/LC_MESSAGES/seattn.po``; they are compiled in memory the first time a
language is used (Babel's own compiler), so there is no compiled file to keep in step and no
build step.

The language is per context, never process-wide: gettext's ``install()`` would put one
visitor's language into every other visitor's page. Streamlit runs each session's script in a
thread of its own, and a ContextVar set there is seen by that run alone; the dashboard sets it at
the start of every run (pages/ui/language.py). Code that never sets it (the command line, the
tests, background threads) speaks English, the language the strings are written in.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

DOMAIN = "seattn"
LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "en"
# The languages offered, in the order the language choice lists them.
LANGUAGES = ("zh", "en")

_NO_TRANSLATION = gettext.NullTranslations()
_active: ContextVar[gettext.NullTranslations] = ContextVar("seattn_translations")


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of one language (English: the strings as written)."""
    if language == SOURCE_LANGUAGE:
        return _NO_TRANSLATION
    if language not in LANGUAGES:
        raise ValueError(f"no catalogue for language {language!r}; offered: {LANGUAGES}")
    # Imported here: the command line and the training processes never need Babel.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with catalogue_path(language).open("rb") as po:
        catalogue = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def activate(language: str) -> None:
    """Speak ``language`` in the code that runs from here on in this thread (or task)."""
    _active.set(translations(language))


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Speak ``language`` inside the block, then whatever was spoken before."""
    token = _active.set(translations(language))
    try:
        yield
    finally:
        _active.reset(token)


def active_language() -> str:
    translations_now = _active.get(_NO_TRANSLATION)
    if translations_now is _NO_TRANSLATION:
        return SOURCE_LANGUAGE
    return next(lang for lang in LANGUAGES if translations(lang) is translations_now)


def _(message: str) -> str:
    """``message`` in the active language."""
    return _active.get(_NO_TRANSLATION).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for ``count``, in the active language."""
    return _active.get(_NO_TRANSLATION).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """``message`` in the active language, where the same English word needs ``context``."""
    return _active.get(_NO_TRANSLATION).pgettext(context, message)


def N_(message: str) -> str:  # noqa: N802  the name Babel's extractor and gettext users know
    """Mark ``message`` for extraction only: it is translated where it is shown, with ``_``."""
    return message
