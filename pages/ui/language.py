"""The session's language: chosen in the sidebar, opened by a link, or the browser's own.

    apply()            at the start of every run (dashboard.py; a page run alone; a fragment):
                       makes seattn.i18n speak the session's language in this run's thread
    language_picker()  the sidebar's 中文 / English choice
    fragment(...)      st.fragment whose reruns speak the session's language too

Which language, first match wins:
1. ``?lang=zh`` or ``?lang=en`` in the URL, when it changed (a course's link opens in its language;
   the picker can still change it afterwards);
2. the choice made earlier in this browser session;
3. the browser's language (``st.context.locale``, else the Accept-Language header): Chinese for
   any ``zh-*``, English otherwise.

The language lives in this session's state and is set for this run's thread only
(seattn.i18n's ContextVar), so two visitors see two languages at the same moment.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

from seattn import i18n

LANGUAGE_KEY = "seattn_language"  # the session's language, "zh" or "en"
_PICKER_KEY = "seattn_language_picker"
_LINK_APPLIED = "seattn_language_link"  # the ?lang= value already applied in this session
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}  # each in its own language, never translated


def browser_language(locale: str | None, accept_language: str | None = None) -> str:
    """ "zh" when the browser asks for any Chinese first, else "en"."""
    first = locale or (accept_language or "").split(",")[0]
    return "zh" if first.strip().lower().startswith("zh") else i18n.SOURCE_LANGUAGE


def session_language() -> str:
    """The language of this session (see the module's docstring for the order)."""
    asked = st.query_params.get("lang")
    if asked in i18n.LANGUAGES and st.session_state.get(_LINK_APPLIED) != asked:
        st.session_state[_LINK_APPLIED] = asked
        st.session_state[LANGUAGE_KEY] = asked
    if st.session_state.get(LANGUAGE_KEY) not in i18n.LANGUAGES:
        st.session_state[LANGUAGE_KEY] = browser_language(
            st.context.locale, st.context.headers.get("Accept-Language")
        )
    return st.session_state[LANGUAGE_KEY]


def apply() -> str:
    """Speak the session's language in this run; returns it."""
    language = session_language()
    i18n.activate(language)
    return language


def _picked() -> None:
    language = st.session_state[_PICKER_KEY]
    st.session_state[LANGUAGE_KEY] = language
    # Into the URL too, so a reload or a copied link keeps it.
    st.session_state[_LINK_APPLIED] = language
    st.query_params["lang"] = language


def language_picker() -> None:
    """The sidebar's language choice; the language applies from the next line on."""
    language = apply()
    st.session_state[_PICKER_KEY] = language
    st.sidebar.segmented_control(
        "语言 · Language",
        list(LANGUAGE_NAMES),
        format_func=LANGUAGE_NAMES.get,
        key=_PICKER_KEY,
        required=True,
        on_change=_picked,
    )


def fragment(*, run_every: float | None = None) -> Callable:
    """``st.fragment(run_every=...)`` for a function whose reruns speak the session's language.

    A fragment's rerun runs the function alone, on a new script thread, without dashboard.py:
    without this it would speak English.
    """

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def speaking_the_session_language(*args, **kwargs):
            apply()
            return function(*args, **kwargs)

        return st.fragment(speaking_the_session_language, run_every=run_every)

    return decorate
