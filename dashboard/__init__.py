"""The Streamlit dashboard: one entry (app.py), one file per page (pages/), a typed query layer (queries.py)
that never imports streamlit, and the data source (source.py) that finds the pipeline or the file."""
