"""Page paths, and the one place that relies on Streamlit's internals.

The pages live in a folder named pages/ (the layout asked for), so until some session has run
dashboard.py's ``st.navigation``, Streamlit treats that folder the old multipage way and runs a
deep-linked page (say /train on a freshly started server) on its own, without the entry point.
``st.navigation`` ends that mode by clearing ``PagesManager.uses_pages_directory``; clearing it
here and rerunning does the same at once, and the rerun lands on the page that was asked for, now
inside the dashboard. Streamlit has no public API for this. tests/app/test_routing.py fails,
naming the attribute, when an upgrade changes what this relies on.
"""

from __future__ import annotations

import streamlit as st

from pages.ui import language

HOME_PAGE = "pages/home.py"
EXPLORE_PAGE = "pages/explore.py"
ATLAS_PAGE = "pages/atlas.py"
TRAIN_PAGE = "pages/train.py"
COMPARE_PAGE = "pages/compare.py"


def run_through_dashboard() -> None:
    """Send this session through dashboard.py (page config, sidebar, navigation) if it skipped,
    and speak the session's language (again: a page run alone, as AppTest runs it, needs it)."""
    from streamlit import config
    from streamlit.runtime.pages_manager import PagesManager

    language.apply()
    # AppTest rebuilds that flag on every run, so a rerun there would only repeat itself (and
    # drop the click being tested); pages cope with running alone (models.current_model() draws
    # the picker itself), which is what AppTest then exercises.
    if PagesManager.uses_pages_directory and not config.get_option("global.appTest"):
        PagesManager.uses_pages_directory = False
        st.rerun()
