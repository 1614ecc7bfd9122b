"""Run N replicas of the app behind nginx on one machine, with sticky sessions, and keep them up.

    python deploy/run_replicas.py                     # 2 replicas, nginx on port 8080
    python deploy/run_replicas.py --replicas 4 --port 80 --listen 0.0.0.0 --run-dir /srv/bptt
    python deploy/run_replicas.py --port 8443 --tls-cert cert.pem --tls-key key.pem

Starts ``streamlit run serve.py`` N times on free loopback ports (replica ``a``, ``b``, … with
``BPTT_REPLICA`` set to its letter, ``OPENBLAS_NUM_THREADS=1``, one shared cookie secret), waits
for each ``/_stcore/health``, renders ``deploy/nginx.conf.template`` into the run directory,
checks it with ``nginx -t`` and runs nginx in the foreground (unprivileged: pid, logs and temp
files all live in the run directory). When everything answers it writes ``replicas.json`` (the
URL, each replica's address and pid, the log paths) and prints ``READY <url>``.

A replica or nginx that dies is started again on the same port (so nginx's upstream list holds),
at once the first time and then after a pause that doubles with every quick death (at most
``MAX_BACKOFF_S``); the others keep serving meanwhile (nginx sends a dead replica's students to
another one, whose page reconnects with the settings of its link). ``replicas.json`` is rewritten
with the new pid and the number of restarts. Ctrl-C or SIGTERM stops nginx and every replica.

Streamlit sessions live in one server process, so nginx keeps each browser on one replica by a
cookie it sets itself (``bptt_route``; see the template). ``deploy/README.md`` has the recipe;
``tests/reliability/test_load_balancer.py`` and ``test_recipe_hardening.py`` run this script.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import ssl
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "nginx.conf.template"
APP_DIR = HERE.parent
NGINX = "/usr/sbin/nginx"
SCRIPT = "serve.py"  # the launcher: app.py with the server rules of bptt_app/server.py
START_TIMEOUT_S = 90
QUICK_DEATH_S = 60  # a child that dies sooner after its start waits longer before the next
MAX_BACKOFF_S = 30


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    # our own nginx on this machine: a self-signed certificate is fine here
    context = ssl._create_unverified_context() if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(
            f"{url}/_stcore/health", timeout=2, context=context
        ) as response:
            return response.read().strip() == b"ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def tls_lines(cert: Path | None, key: Path | None) -> str:
    """The nginx lines of the TLS certificate (empty without one)."""
    if cert is None:
        return ""
    return (
        f"        ssl_certificate {cert};\n"
        f"        ssl_certificate_key {key};\n"
        "        ssl_protocols TLSv1.2 TLSv1.3;\n"
    )


def render_config(
    run_dir: Path, listen: str, upstreams: list[str], cert: Path | None = None, key=None
) -> str:
    """The nginx.conf for ``upstreams`` (``host:port`` each), listening on ``listen``."""
    servers = "\n".join(f"        server {u} max_fails=0;" for u in upstreams)
    text = TEMPLATE.read_text()
    for name, value in {
        "RUN_DIR": str(run_dir),
        "LISTEN": f"listen {listen}{' ssl' if cert else ''};",
        "TLS": tls_lines(cert, key),
        "UPSTREAM_SERVERS": servers,
    }.items():
        text = text.replace("{{" + name + "}}", value)
    if "{{" in text:
        raise SystemExit(f"unreplaced placeholder in {TEMPLATE}")
    return text


def replica_names(n: int) -> list[str]:
    letters = string.ascii_lowercase
    return [letters[i] if i < 26 else f"r{i}" for i in range(n)]


# --------------------------------------------------------------------------- children


@dataclass
class Child:
    """One supervised process: how to start it, and its current run."""

    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    log_path: Path | None  # None: inherit stdout/stderr
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    restarts: int = 0
    backoff: float = 0.0
    not_before: float = 0.0  # monotonic time of the next start after a death
    log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        if self.log_path is not None and self.log is None:
            self.log = open(self.log_path, "ab")  # closed in stop()
        self.proc = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT if self.log else None,
        )
        self.started = time.monotonic()

    def dead(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def schedule_restart(self) -> None:
        """After a death: when to start again (doubling pauses for quick deaths)."""
        quick = time.monotonic() - self.started < QUICK_DEATH_S
        self.backoff = min(MAX_BACKOFF_S, max(1.0, 2 * self.backoff)) if quick else 0.0
        self.not_before = time.monotonic() + self.backoff
        print(
            f"{self.name} exited with code {self.proc.returncode}; "
            f"restarting in {self.backoff:.0f} s (restart {self.restarts + 1})",
            file=sys.stderr,
            flush=True,
        )
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def reap(self, deadline: float) -> None:
        if self.proc is not None:
            try:
                self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.log is not None:
            self.log.close()


def supervise_once(children: list[Child]) -> bool:
    """Restart what died and is due; True if anything was (re)started."""
    changed = False
    for child in children:
        if child.dead():
            child.schedule_restart()
        if child.proc is None and time.monotonic() >= child.not_before:
            child.restarts += 1
            child.start()
            changed = True
    return changed


def stop_all(children: list[Child]) -> None:
    for child in reversed(children):  # nginx first
        child.stop()
    deadline = time.monotonic() + 10
    for child in children:
        child.reap(deadline)


# --------------------------------------------------------------------------- start-up


def replica_children(args: argparse.Namespace, run_dir: Path) -> dict[str, Child]:
    cookie_secret = secrets.token_hex(32)  # the same for all: auth cookies work on any replica
    replicas = {}
    for name in replica_names(args.replicas):
        port = free_port()
        env = {
            **os.environ,
            "BPTT_REPLICA": name,
            "OPENBLAS_NUM_THREADS": "1",
            "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret,
        }
        command = [sys.executable, "-m", "streamlit", "run", args.script]
        command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
        command += ["--server.headless", "true"]
        log = run_dir / f"replica-{name}.log"
        replicas[f"127.0.0.1:{port}"] = Child(f"replica {name}", command, args.app_dir, env, log)
    return replicas


def wait_healthy(url: str, child: Child, deadline: float, stopping) -> str | None:
    """None once ``url`` answers its health check, else why it never will."""
    while not healthy(url):
        if child.dead() or stopping():
            return f"{child.name} exited"
        if time.monotonic() > deadline:
            return f"{child.name} did not become healthy"
        time.sleep(0.2)
    return None


def nginx_child(args: argparse.Namespace, run_dir: Path, conf: Path) -> Child | str:
    """The nginx child for ``conf``, or the output of a failed ``nginx -t``."""
    command = [args.nginx, "-p", str(run_dir), "-e", str(run_dir / "error.log"), "-c", str(conf)]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True)
    if check.returncode != 0:
        return check.stderr
    return Child("nginx", command, run_dir, dict(os.environ), None)


def write_info(path: Path, url: str, replicas: dict[str, Child], nginx: Child, conf: Path):
    run_dir = conf.parent
    info = {
        "url": url,
        "replicas": {c.name.split()[-1]: address for address, c in replicas.items()},
        "pids": {
            **{c.name.split()[-1]: c.proc.pid for c in replicas.values() if c.proc},
            **({"nginx": nginx.proc.pid} if nginx.proc else {}),
        },
        "restarts": {c.name.split()[-1]: c.restarts for c in [*replicas.values(), nginx]},
        "access_log": str(run_dir / "access.log"),
        "error_log": str(run_dir / "error.log"),
        "config": str(conf),
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2))
    tmp.replace(path)  # readers never see half a file


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2, help="number of app processes")
    parser.add_argument("--port", type=int, default=8080, help="nginx port (0: a free one)")
    parser.add_argument("--listen", default="127.0.0.1", help="nginx address")
    parser.add_argument("--run-dir", type=Path, help="logs, pid, config (default: a temp dir)")
    parser.add_argument("--app-dir", type=Path, default=APP_DIR, help="directory of serve.py")
    parser.add_argument("--script", default=SCRIPT, help="the script each replica serves")
    parser.add_argument("--nginx", default=NGINX, help="the nginx binary")
    parser.add_argument("--tls-cert", type=Path, help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", type=Path, help="… and this private key (PEM)")
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    return args


class StartError(Exception):
    """Start-up failed: why, and the children started so far (to be stopped)."""

    def __init__(self, message: str, children: list[Child]) -> None:
        super().__init__(message)
        self.children = children


def start_everything(args, run_dir: Path, url: str, stopping) -> tuple[dict, Child, Path]:
    """Start the replicas and nginx: (replicas by address, nginx, its config file)."""
    replicas = replica_children(args, run_dir)
    for child in replicas.values():
        child.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    for address, child in replicas.items():
        if problem := wait_healthy(f"http://{address}", child, deadline, stopping):
            raise StartError(f"{problem}; see {child.log_path}", list(replicas.values()))
    conf = run_dir / "nginx.conf"
    listen = f"{args.listen}:{args.port}"
    conf.write_text(render_config(run_dir, listen, list(replicas), args.tls_cert, args.tls_key))
    nginx = nginx_child(args, run_dir, conf)
    if isinstance(nginx, str):
        raise StartError(f"nginx -t failed:\n{nginx}", list(replicas.values()))
    nginx.start()
    if problem := wait_healthy(url, nginx, deadline, stopping):
        raise StartError(f"{problem}; see {run_dir}/error.log", [*replicas.values(), nginx])
    return replicas, nginx, conf


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run_dir = (args.run_dir or Path(tempfile.mkdtemp(prefix="bptt-replicas-"))).resolve()
    (run_dir / "temp").mkdir(parents=True, exist_ok=True)
    args.port = args.port or free_port()
    host = "127.0.0.1" if args.listen in ("0.0.0.0", "::") else args.listen
    url = f"{'https' if args.tls_cert else 'http'}://{host}:{args.port}"
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        replicas, nginx, conf = start_everything(args, run_dir, url, lambda: stopping)
    except StartError as failed:
        print(failed, file=sys.stderr)
        stop_all(failed.children)
        return 1
    children = [*replicas.values(), nginx]
    info = run_dir / "replicas.json"
    try:
        write_info(info, url, replicas, nginx, conf)
        print(f"READY {url}  ({len(replicas)} replicas; run dir {run_dir})", flush=True)
        while not stopping:
            if supervise_once(children):
                write_info(info, url, replicas, nginx, conf)
            time.sleep(0.25)
        return 0
    finally:
        stop_all(children)


if __name__ == "__main__":
    sys.exit(main())
