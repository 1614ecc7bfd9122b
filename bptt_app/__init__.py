"""Streamlit glue shared by app.py and the pages: settings, the sidebar, cached engine calls."""
