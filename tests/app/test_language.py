"""The session's language (pages/ui/language.py): the browser's by default, a link's ?lang=, the
sidebar's choice; per session, never shared."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from pages.ui.language import browser_language
from seattn import i18n
from tests.app.chinese import is_chinese
from tests.helpers import PROJECT_ROOT

APP = str(PROJECT_ROOT / "dashboard.py")
PICKER = "seattn_language_picker"


def run(app: AppTest, shown_in: str) -> AppTest:
    """Run ``app`` again. Before the run, AppTest reads the widgets of the previous one back
    through their format_func in this (the test's) thread, not the script's: this thread must
    speak the language they were ``shown_in`` for their options to match."""
    with i18n.speaking(shown_in):
        app.run(timeout=120)
    assert not app.exception, [e.value for e in app.exception]
    return app


def page_title(app: AppTest) -> str:
    return app.title[0].value


@pytest.mark.parametrize(
    ("locale", "accept", "expected"),
    [
        ("zh-CN", None, "zh"),
        ("zh-TW", None, "zh"),
        ("en-US", None, "en"),
        ("fr-FR", None, "en"),  # no French: the language the strings are written in
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, None, "en"),
    ],
)
def test_the_browsers_language_decides_the_default(locale, accept, expected):
    assert browser_language(locale, accept) == expected


def test_a_chinese_browser_gets_chinese_and_an_english_one_english():
    chinese = AppTest.from_file(APP)
    chinese.context["locale"] = "zh-CN"
    english = AppTest.from_file(APP)
    english.context["locale"] = "en-US"
    # Two visitors at once, runs interleaved: each keeps its own language.
    for _ in range(2):
        assert is_chinese(page_title(run(chinese, "zh")))
        assert page_title(run(english, "en")) == "Channel attention, made visible"
    assert i18n.active_language() == "en"  # nothing leaked into this thread


def test_a_link_with_lang_wins_over_the_browser_then_the_picker_wins():
    app = AppTest.from_file(APP)
    app.context["locale"] = "en-US"
    app.query_params["lang"] = "zh"
    assert is_chinese(page_title(run(app, "zh")))
    assert app.segmented_control(key=PICKER).value == "zh"

    app.segmented_control(key=PICKER).set_value("en")
    assert page_title(run(app, "zh")) == "Channel attention, made visible"
    assert app.query_params["lang"] == "en"  # a reload or a copied link keeps the choice
    assert page_title(run(app, "en")) == "Channel attention, made visible"


def test_the_choice_stays_when_moving_between_pages():
    app = AppTest.from_file(APP)
    app.context["locale"] = "en-US"
    run(app, "en")
    app.segmented_control(key=PICKER).set_value("zh")
    run(app, "en")
    app.switch_page("pages/train.py")
    assert is_chinese(page_title(run(app, "zh")))
