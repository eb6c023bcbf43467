"""seattn dashboard: the entry point. Sets up the page, the shared sidebar, and routes to pages/."""

from __future__ import annotations

import streamlit as st

from pages import shared

st.set_page_config(page_title="seattn: channel attention, visible", page_icon="🔎", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/explore.py", title="Explore", icon=":material/biotech:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
]

page = st.navigation(PAGES)
# The sidebar (the model picker) is drawn here, before the page runs, so every page shares one
# picker and its choice survives moving between pages.
with shared.sidebar():
    page.run()
