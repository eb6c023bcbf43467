"""seattn dashboard: the entry point. Sets up the page, the shared sidebar, and routes to pages/."""

from __future__ import annotations

import streamlit as st

from pages.ui import language, models, presentation
from pages.ui.routing import ATLAS_PAGE, COMPARE_PAGE, EXPLORE_PAGE, HOME_PAGE, TRAIN_PAGE
from seattn.i18n import _

language.apply()  # before the first word: the page title is in the session's language
st.set_page_config(
    page_title=_("seattn: channel attention, visible"), page_icon="🔎", layout="wide"
)

PAGES = [
    st.Page(HOME_PAGE, title=_("Home"), icon=":material/home:", default=True),
    st.Page(EXPLORE_PAGE, title=_("Explore"), icon=":material/biotech:"),
    st.Page(ATLAS_PAGE, title=_("Atlas"), icon=":material/public:"),
    st.Page(TRAIN_PAGE, title=_("Train"), icon=":material/model_training:"),
    st.Page(COMPARE_PAGE, title=_("Compare"), icon=":material/compare_arrows:"),
]

page = st.navigation(PAGES)
language.language_picker()
presentation.presentation_toggle()
# The sidebar (the model picker) is drawn here, before the page runs, so every page shares one
# picker and its choice survives moving between pages.
with models.sidebar():
    page.run()
