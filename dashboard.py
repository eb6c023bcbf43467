"""seattn dashboard: the entry point. Sets up the page, the shared sidebar, and routes to pages/."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="seattn: channel attention, visible", page_icon="🔎", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/explore.py", title="Explore", icon="🔬"),
    st.Page("pages/train.py", title="Train", icon="🏋️"),
    st.Page("pages/compare.py", title="Compare", icon="📊"),
]

st.navigation(PAGES).run()
