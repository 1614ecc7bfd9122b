"""nginx's access log in the deploy recipe (``log_format bptt`` in deploy/nginx.conf.template).

Each line names the route cookie and ``$upstream_addr``: every replica nginx tried, in order
("a:1, b:2" after a failover), the last one having answered.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path

LINE_RE = re.compile(
    r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) '
    r"route=(?P<route>\S*) upstream=(?P<upstream>.*?) time="
)


def read(log: Path) -> list[dict[str, str]]:
    """Every request line of ``log`` (none while nginx has not created it)."""
    lines = log.read_text().splitlines() if log.exists() else []
    return [m.groupdict() for line in lines if (m := LINE_RE.search(line))]


def replica_name(replicas: Mapping[str, str], upstream: str) -> str:
    """The name (in ``replicas``: name → host:port) of the replica that answered, or "? …"."""
    names = {address: name for name, address in replicas.items()}
    return names.get(upstream.split(",")[-1].strip(), f"? {upstream}")


def route_replica(
    log: Path, replicas: Mapping[str, str], route: str, ask: Callable[[], object]
) -> str:
    """``ask()`` nginx once with ``route``'s cookie; the replica that answered, from the log.

    nginx may write the line after the client has the response, so this waits for a line of
    ``route`` newer than those before the request.
    """
    before = sum(r["route"] == route for r in read(log))
    ask()
    deadline = time.monotonic() + 5
    while len(hits := [r for r in read(log) if r["route"] == route]) <= before:
        assert time.monotonic() < deadline, f"no new log line for route {route}"
        time.sleep(0.02)
    return replica_name(replicas, hits[-1]["upstream"])
