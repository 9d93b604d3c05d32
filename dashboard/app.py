"""Entry point: `streamlit run dashboard/app.py -- [--config FILE] [--db PATH]` (or `customer-health dashboard`).

Builds the navigation from one file per page in dashboard/pages/. Sign-in (Streamlit OIDC) gates the
pages when switched on in config.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import ui

PAGES_DIR = Path(__file__).resolve().parent / "pages"
# A file, inlined by Streamlit as a data URL: a Material icon as page icon makes the browser fetch the
# favicon from fonts.gstatic.com, and the monitor may run without internet.
FAVICON = Path(__file__).resolve().parent / "favicon.svg"
PAGES: list[tuple[str, str, str]] = [
    ("live_health.py", "Live health", ":material/monitor_heart:"),
    ("portfolio.py", "Portfolio", ":material/pie_chart:"),
    ("customer.py", "Customer", ":material/person_search:"),
    ("data_quality.py", "Data quality & pipeline", ":material/fact_check:"),
]


def main() -> None:
    st.set_page_config(page_title="Customer health", page_icon=str(FAVICON), layout="wide")
    ui.sign_in_sidebar()
    if not ui.may_view():
        return
    pages = [
        st.Page(PAGES_DIR / file, title=title, icon=icon, default=(i == 0))
        for i, (file, title, icon) in enumerate(PAGES)
    ]
    st.navigation(pages).run()


if __name__ == "__main__":
    main()
