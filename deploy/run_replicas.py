"""Run N replicas of the app behind nginx on one machine, with sticky sessions.

    python deploy/run_replicas.py                     # 2 replicas, nginx on port 8080
    python deploy/run_replicas.py --replicas 4 --port 80 --listen 0.0.0.0 --run-dir /srv/bptt

Starts ``streamlit run app.py`` N times on free loopback ports (replica ``a``, ``b``, … with
``BPTT_REPLICA`` set to its letter, ``OPENBLAS_NUM_THREADS=1``, one shared cookie secret), waits
for each ``/_stcore/health``, renders ``deploy/nginx.conf.template`` into the run directory,
checks it with ``nginx -t`` and runs nginx in the foreground (unprivileged: pid, logs and temp
files all live in the run directory). When everything answers it writes ``replicas.json`` (the
URL, each replica's address, the log paths) and prints ``READY <url>``. Ctrl-C or SIGTERM stops
nginx and every replica; if any of them dies, the others are stopped and the exit code is 1.

Streamlit sessions live in one server process, so nginx keeps each browser on one replica by a
cookie it sets itself (``bptt_route``; see the template). ``deploy/README.md`` has the recipe;
``tests/reliability/test_load_balancer.py`` runs this script with two replicas.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "nginx.conf.template"
APP_DIR = HERE.parent
NGINX = "/usr/sbin/nginx"
START_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().strip() == b"ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def render_config(run_dir: Path, listen: str, upstreams: list[str]) -> str:
    """The nginx.conf for ``upstreams`` (``host:port`` each), listening on ``listen``."""
    servers = "\n".join(f"        server {u} max_fails=0;" for u in upstreams)
    text = TEMPLATE.read_text()
    for key, value in {
        "RUN_DIR": str(run_dir),
        "LISTEN": listen,
        "UPSTREAM_SERVERS": servers,
    }.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        raise SystemExit(f"unreplaced placeholder in {TEMPLATE}")
    return text


def replica_names(n: int) -> list[str]:
    letters = string.ascii_lowercase
    return [letters[i] if i < 26 else f"r{i}" for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2, help="number of app processes")
    parser.add_argument("--port", type=int, default=8080, help="nginx port (0: a free one)")
    parser.add_argument("--listen", default="127.0.0.1", help="nginx address")
    parser.add_argument("--run-dir", type=Path, help="logs, pid, config (default: a temp dir)")
    parser.add_argument("--app-dir", type=Path, default=APP_DIR, help="directory of app.py")
    parser.add_argument("--nginx", default=NGINX, help="the nginx binary")
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")

    run_dir = (args.run_dir or Path(tempfile.mkdtemp(prefix="bptt-replicas-"))).resolve()
    (run_dir / "temp").mkdir(parents=True, exist_ok=True)
    port = args.port or free_port()
    url = f"http://{'127.0.0.1' if args.listen in ('0.0.0.0', '::') else args.listen}:{port}"
    cookie_secret = secrets.token_hex(32)  # the same for all: auth cookies work on any replica

    children: dict[str, subprocess.Popen[bytes]] = {}
    logs: list = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def shutdown() -> None:
        for proc in children.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 10
        for proc in children.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()

    replicas: dict[str, str] = {}
    try:
        for name in replica_names(args.replicas):
            rport = free_port()
            env = {
                **os.environ,
                "BPTT_REPLICA": name,
                "OPENBLAS_NUM_THREADS": "1",
                "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret,
            }
            log = open(run_dir / f"replica-{name}.log", "wb")  # closed in shutdown()
            logs.append(log)
            children[name] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "streamlit",
                    "run",
                    "app.py",
                    "--server.port",
                    str(rport),
                    "--server.address",
                    "127.0.0.1",
                    "--server.headless",
                    "true",
                ],
                cwd=args.app_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            replicas[name] = f"127.0.0.1:{rport}"

        deadline = time.monotonic() + START_TIMEOUT_S
        for name, address in replicas.items():
            while not healthy(f"http://{address}"):
                if children[name].poll() is not None or stopping:
                    print(
                        f"replica {name} exited; see {run_dir}/replica-{name}.log", file=sys.stderr
                    )
                    return 1
                if time.monotonic() > deadline:
                    print(f"replica {name} did not become healthy", file=sys.stderr)
                    return 1
                time.sleep(0.2)

        conf = run_dir / "nginx.conf"
        conf.write_text(render_config(run_dir, f"{args.listen}:{port}", list(replicas.values())))
        nginx_cmd = [
            args.nginx,
            "-p",
            str(run_dir),
            "-e",
            str(run_dir / "error.log"),
            "-c",
            str(conf),
        ]
        check = subprocess.run([*nginx_cmd, "-t"], capture_output=True, text=True)
        if check.returncode != 0:
            print(f"nginx -t failed:\n{check.stderr}", file=sys.stderr)
            return 1
        children["nginx"] = subprocess.Popen(nginx_cmd, stdin=subprocess.DEVNULL)
        while not healthy(url):
            if children["nginx"].poll() is not None or stopping:
                print(f"nginx exited; see {run_dir}/error.log", file=sys.stderr)
                return 1
            if time.monotonic() > deadline:
                print("nginx did not answer", file=sys.stderr)
                return 1
            time.sleep(0.1)

        info = {
            "url": url,
            "replicas": replicas,
            "pids": {name: proc.pid for name, proc in children.items()},
            "access_log": str(run_dir / "access.log"),
            "error_log": str(run_dir / "error.log"),
            "config": str(conf),
        }
        (run_dir / "replicas.json").write_text(json.dumps(info, indent=2))
        print(f"READY {url}  ({len(replicas)} replicas; run dir {run_dir})", flush=True)

        while not stopping:
            dead = [name for name, proc in children.items() if proc.poll() is not None]
            if dead:
                print(f"{', '.join(dead)} exited; stopping the rest", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        shutdown()


if __name__ == "__main__":
    sys.exit(main())
