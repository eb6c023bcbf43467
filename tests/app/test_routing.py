"""Tests for pages/ui/routing.py: the one place that relies on Streamlit's internals.

If a Streamlit upgrade moves what run_through_dashboard() relies on, the first test fails and
says what changed, instead of deep links silently skipping the dashboard's sidebar.
"""

from __future__ import annotations

from streamlit import config
from streamlit.testing.v1 import AppTest

from pages.ui import routing
from tests.helpers import PROJECT_ROOT


def test_streamlit_still_has_what_the_pages_folder_workaround_uses():
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError as error:
        raise AssertionError(
            "streamlit.runtime.pages_manager.PagesManager is gone: pages/ui/routing.py "
            f"cannot end the old pages/ mode any more ({error})"
        ) from None
    flag = getattr(PagesManager, "uses_pages_directory", "missing")
    assert isinstance(flag, bool | None), (
        "PagesManager.uses_pages_directory is no longer a class-level flag "
        f"(found {flag!r}): pages/ui/routing.py relies on it to route deep links through "
        "dashboard.py"
    )
    try:
        config.get_option("global.appTest")
    except RuntimeError as error:
        raise AssertionError(
            f"the config option global.appTest is gone; pages/ui/routing.py reads it ({error})"
        ) from None


def test_every_page_path_exists_and_a_page_run_alone_still_renders():
    for path in (
        routing.HOME_PAGE,
        routing.EXPLORE_PAGE,
        routing.TRAIN_PAGE,
        routing.COMPARE_PAGE,
    ):
        assert (PROJECT_ROOT / path).is_file(), path
    # AppTest runs a page file alone: the workaround must stay out of its way.
    app = AppTest.from_file(str(PROJECT_ROOT / routing.TRAIN_PAGE), default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    assert [title.value for title in app.title] == ["Train"]
