"""``graphpool serve`` under load, side by side with ``langgraph dev``.

    python bench/bench_server.py [--clients 50] [--runs 8] [--repeat 3]
                                 [--langgraph-dev PATH | --no-langgraph-dev]
                                 [--url URL ...] [--out bench/results/server.md]
                                 [--database postgresql://...]

Starts ``graphpool serve`` on 127.0.0.1 (a fresh SQLite file, or ``--database``)
and, if its CLI is found (``--langgraph-dev``, by default ``.venv-lgdev/bin/langgraph``:
a separate venv with ``langgraph-cli[inmem]``), ``langgraph dev`` on the same seed graph (three
50 ms branches, built with LangGraph there). ``--url`` loads servers already running
instead (any that speaks LangGraph's API and serves the graph as ``seed``).

Each round, ``--clients`` asyncio SDK clients each stream ``--runs`` stateless runs
one after another, against each server in turn; the report gives each figure's
median over ``--repeat`` rounds: runs/s, p50/p99 from create to the first event
(the first after ``metadata``) and to the end, the server's CPU time per run
(its process group's, from /proc: a figure that other load on the machine moves
less than the times) and its peak memory (VmHWM, with its child processes). Then a
flood of background runs against graphpool's ``--max-queue`` shows the 503s, and
that every accepted run finishes.
Loopback only; the servers are stopped by their process group ids.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent
SRC = HERE.parent / "src"
APP = HERE / "server_app"
LANGGRAPH_CLI = HERE.parent / ".venv-lgdev" / "bin" / "langgraph"


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes] | None = None
    rounds: list[Round] = field(default_factory=list)


@dataclass
class Round:
    wall: float
    first: list[float]
    done: list[float]
    cpu: float = float("nan")  # the server's CPU seconds in the round (its process group)

    def figures(self) -> dict[str, float]:
        return {
            "runs/s": len(self.done) / self.wall,
            "first p50": _pct(self.first, 0.5),
            "first p99": _pct(self.first, 0.99),
            "done p50": _pct(self.done, 0.5),
            "done p99": _pct(self.done, 0.99),
            "cpu ms/run": self.cpu * 1000 / len(self.done),
        }


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ok(process: subprocess.Popen[bytes], url: str, what: str) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}")
        try:
            if httpx.get(url + "/ok").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    _stop(process)
    raise SystemExit(f"{what} did not start")


def _start_graphpool(tmp: str, max_queue: int, database: str | None = None) -> Server:
    port = _port()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    process = subprocess.Popen(
        [sys.executable, "-m", "graphpool", "serve", "--config", str(APP / "langgraph.json"),
         "--port", str(port), "--database", database or os.path.join(tmp, f"{port}.db"),
         "--max-queue", str(max_queue)],
        env=env, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    _wait_ok(process, url, "graphpool serve")
    return Server("graphpool serve", url, process)


def _start_langgraph_dev(tmp: str, cli: Path, jobs: int) -> Server:
    """``langgraph dev`` in a copy of the app folder (it writes ``.langgraph_api/`` there)."""
    folder = Path(tmp) / "lgdev"
    shutil.copytree(APP, folder)
    config = {"dependencies": ["."], "graphs": {"seed": "./seed.py:graph"},
              "env": {"SEED_LIBRARY": "langgraph"}}  # fmt: skip
    (folder / "langgraph.json").write_text(json.dumps(config))
    port = _port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(SEED_LIBRARY="langgraph", LANGSMITH_TRACING="false", LANGGRAPH_CLI_NO_ANALYTICS="1")
    process = subprocess.Popen(
        [str(cli), "dev", "--config", "langgraph.json", "--host", "127.0.0.1",
         "--port", str(port), "--no-browser", "--no-reload",
         "--n-jobs-per-worker", str(jobs), "--server-log-level", "WARNING"],
        cwd=folder, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=open(folder / "server.log", "wb"),
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    _wait_ok(process, url, "langgraph dev")
    return Server(f"langgraph dev (--n-jobs-per-worker {jobs})", url, process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory plus its children's (VmHWM)."""
    total, found = 0, False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text().splitlines()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status if ":" in line)
        if int(entry.name) == pid or fields.get("PPid", "").strip() == str(pid):
            if "VmHWM" in fields:
                total += int(fields["VmHWM"].split()[0])
                found = True
    return total / 1024 if found else float("nan")


def _cpu_seconds(group: int) -> float:
    """User and system CPU time of the processes in a process group (the server's:
    started in a session of its own), from /proc; NaN where there is no /proc."""
    total, found = 0, False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group:  # the fifth field, counted after "pid (comm)"
            total += int(fields[11]) + int(fields[12])
            found = True
    return total / os.sysconf("SC_CLK_TCK") if found else float("nan")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _load(url: str, clients: int, runs: int) -> Round:
    from langgraph_sdk import get_client

    first: list[float] = []
    done: list[float] = []

    async def one_client(client: Any) -> None:
        for _ in range(runs):
            began = time.perf_counter()
            seen = False
            async for part in client.runs.stream(None, "seed", input={"results": []}):
                if not seen and part.event != "metadata":
                    first.append(time.perf_counter() - began)
                    seen = True
            done.append(time.perf_counter() - began)
        await client.http.client.aclose()

    # Made before the clock starts: building one takes ~70 ms of CPU here (an SSL
    # context each), which would otherwise land in the first runs' latencies.
    sdk_clients = [get_client(url=url, timeout=300) for _ in range(clients)]
    began = time.perf_counter()
    await asyncio.gather(*(one_client(client) for client in sdk_clients))
    return Round(time.perf_counter() - began, first, done)


async def _flood(url: str, runs: int) -> tuple[int, int, int]:
    from langgraph_sdk import get_client

    client = get_client(url=url, timeout=120)
    accepted, refused = [], 0
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as raw:
        replies = await asyncio.gather(
            *(raw.post("/runs", json={"assistant_id": "seed", "input": {"results": []},
                                      "on_completion": "keep"}) for _ in range(runs))
        )  # fmt: skip
    for reply in replies:
        if reply.status_code == 503:
            refused += 1
        else:
            accepted.append(reply.json())
    finished = 0
    for run in accepted:
        await client.runs.join(run["thread_id"], run["run_id"])
        if (await client.runs.get(run["thread_id"], run["run_id"]))["status"] == "success":
            finished += 1
    await client.http.client.aclose()
    return len(accepted), refused, finished


def _medians(server: Server) -> dict[str, float]:
    figures = [r.figures() for r in server.rounds]
    return {key: statistics.median(f[key] for f in figures) for key in figures[0]}


def _report(args: argparse.Namespace, servers: list[Server], rss: dict[str, float],
            flood: tuple[int, int, int] | None, note: str) -> list[str]:  # fmt: skip
    total = args.clients * args.runs
    lines = [
        "# graphpool serve under load" + (", beside langgraph dev" if len(servers) > 1 else ""),
        "",
        f"{args.clients} langgraph_sdk async clients, each streaming {args.runs} stateless runs"
        f" of the seed graph (three 50 ms branches): {total} runs a round, on 127.0.0.1;"
        f" {os.cpu_count()} cores; graphpool on {'PostgreSQL' if args.database else 'SQLite'};"
        f" each figure is the median of {args.repeat} rounds, the"
        " servers taking turns; `python bench/bench_server.py"
        + (" --database postgresql://..." if args.database else "")
        + (" --no-langgraph-dev" if args.no_langgraph_dev else "")
        + "`.",
        "",
        "| server | runs/s | first event p50 | p99 | completion p50 | p99 | server CPU/run"
        " | peak RSS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for server in servers:
        m = _medians(server)
        memory = f"{rss[server.name]:.0f} MB" if server.name in rss else "n/a"
        cpu = "n/a" if m["cpu ms/run"] != m["cpu ms/run"] else f"{m['cpu ms/run']:.1f} ms"
        lines.append(
            f"| {server.name} | {m['runs/s']:.1f} | {m['first p50']:.3f} s"
            f" | {m['first p99']:.3f} s | {m['done p50']:.3f} s | {m['done p99']:.3f} s"
            f" | {cpu} | {memory} |"
        )
    if len(servers) == 2:
        ours, theirs = (_medians(s) for s in servers)
        lines += [
            "",
            f"graphpool: {ours['runs/s'] / theirs['runs/s']:.1f}x the throughput"
            f" (target 5x); p99 to first event {ours['first p99'] / theirs['first p99']:.2f}x"
            " langgraph dev's (target at most 0.20x).",
        ]
    lines += ["", "Each round (runs/s; first event p50, p99):", ""]
    for server in servers:
        cells = [
            f"{f['runs/s']:.1f}; {f['first p50']:.3f} s, {f['first p99']:.3f} s"
            for f in (r.figures() for r in server.rounds)
        ]
        lines.append(f"- {server.name}: " + " | ".join(cells))
    if flood is not None:
        accepted, refused, finished = flood
        lines += [
            "",
            f"Flood (graphpool): {args.flood} background runs at once against `--max-queue"
            f" {args.max_queue}`: {accepted} accepted, {refused} refused with 503,"
            f" {finished} of the accepted finished with success.",
        ]
    if note:
        lines += ["", note]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--flood", type=int, default=400)
    parser.add_argument("--max-queue", type=int, default=100)
    parser.add_argument("--langgraph-dev", type=Path, default=LANGGRAPH_CLI,
                        help="the langgraph CLI of a venv with langgraph-cli[inmem]")  # fmt: skip
    parser.add_argument("--no-langgraph-dev", action="store_true")
    parser.add_argument("--jobs", type=int, default=50, help="langgraph dev's --n-jobs-per-worker")
    parser.add_argument("--url", action="append", default=[],
                        help="load this running server, not new ones (repeatable)")  # fmt: skip
    parser.add_argument("--out", default=str(HERE / "results" / "server.md"))
    parser.add_argument("--database", help="postgresql://... (default: a fresh SQLite file)")
    args = parser.parse_args()
    servers: list[Server] = []
    note = ""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            if args.url:
                servers = [Server(url, url) for url in args.url]
            else:
                servers.append(_start_graphpool(tmp, args.max_queue, args.database))
                if args.no_langgraph_dev:
                    note = "langgraph dev: not run (--no-langgraph-dev)."
                elif not args.langgraph_dev.exists():
                    note = f"langgraph dev: not run ({args.langgraph_dev} not found)."
                else:
                    servers.append(_start_langgraph_dev(tmp, args.langgraph_dev, args.jobs))
            for server in servers:  # warm up: imports, first connections
                asyncio.run(_load(server.url, min(args.clients, 5), 1))
            for index in range(args.repeat):
                for server in servers:
                    group = server.process.pid if server.process else None
                    cpu = _cpu_seconds(group) if group else float("nan")
                    result = asyncio.run(_load(server.url, args.clients, args.runs))
                    if group:
                        result.cpu = _cpu_seconds(group) - cpu
                    server.rounds.append(result)
                    figures = result.figures()
                    print(f"round {index + 1}, {server.name}: {figures}", flush=True)
            rss = {s.name: _peak_rss_mb(s.process.pid) for s in servers if s.process}
            flood = None
            if not args.url and args.flood:
                flood = asyncio.run(_flood(servers[0].url, args.flood))
        finally:
            for server in servers:
                if server.process is not None:
                    _stop(server.process)
    report = "\n".join(_report(args, servers, rss, flood, note)) + "\n"
    print(report)
    Path(args.out).write_text(report)


if __name__ == "__main__":
    main()
