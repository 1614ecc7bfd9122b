# BPTT Explainer: one app process (a replica) per container.
#
#   docker build -t bptt-explainer .
#   docker run --rm -p 8501:8501 bptt-explainer          # then open http://localhost:8501
#
# More students than one process can serve: run several containers behind a load balancer
# with sticky sessions (deploy/README.md). The app's settings, including the hardened server
# options (no error details for students, caches bounded in bytes), come from
# .streamlit/config.toml, copied with the app. The command serves serve.py: app.py with the
# server rules of bptt_app/server.py (security headers, a client's clear_cache ignored, page
# paths, a 404 page, /_stcore/metrics closed), the same command deploy/run_replicas.py runs.
FROM python:3.11-slim

# One BLAS thread per process: the matrices are small, and replicas share the cores.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

# An unprivileged user that owns nothing but its home directory.
RUN groupadd --system app \
    && useradd --system --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies and the three packages first: this layer is rebuilt only when they change.
COPY pyproject.toml ./
COPY bptt_core ./bptt_core
COPY bptt_viz ./bptt_viz
COPY bptt_app ./bptt_app
RUN pip install --no-cache-dir .

# The app: serve.py, app.py, the page folder and .streamlit/config.toml (.dockerignore leaves out tests,
# benchmarks, docs and tool caches). Owned by root, so the app user cannot change its code.
COPY . .

USER app
EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read().strip() == b'ok' else 1)"]

CMD ["streamlit", "run", "serve.py", "--server.address=0.0.0.0", "--server.port=8501"]
