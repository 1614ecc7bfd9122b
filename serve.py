"""Serve BPTT Explainer with the project's server rules: ``streamlit run serve.py``.

This is what the Docker image and ``deploy/run_replicas.py`` run. ``app.py`` is the app itself
(``streamlit run app.py`` serves it too, without these rules, for development); this launcher
wraps Streamlit 1.67's own server around it with ``st.App`` and adds the middleware of
``bptt_app.server``: security headers on every response, page paths that load without console
errors, a 404 page for unknown paths, ``/_stcore/metrics`` closed, and a client's
``clear_cache`` message ignored. ``streamlit run`` finds the ``st.App`` below and serves it with
uvicorn; every ``--server.*`` option and ``.streamlit/config.toml`` apply as usual.
"""

import streamlit as st

from bptt_app.server import server_middleware

app = st.App("app.py", middleware=server_middleware())
