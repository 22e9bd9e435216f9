"""``graphpool serve`` under load: many SDK clients streaming the seed graph at once.

    python bench/bench_server.py [--clients 50] [--runs 8] [--out bench/results/server.md]
                                 [--database postgresql://...]

Starts ``graphpool serve`` on 127.0.0.1 (a fresh SQLite file, or ``--database``), then ``--clients``
asyncio SDK clients each stream ``--runs`` stateless runs of the seed graph (three
50 ms branches) one after another. Reports runs/s, p50/p99 from create to the first
event and to the end, and the server's peak memory (VmHWM). Then a flood of
background runs against ``--max-queue`` to show 503s, and that every accepted run
finishes. Loopback only; the server is stopped by its pid.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).parent
SRC = HERE.parent / "src"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(tmp: str, database: str | None, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    process = subprocess.Popen(
        [sys.executable, "-m", "graphpool", "serve", "--config",
         str(HERE / "server_app" / "langgraph.json"), "--port", str(port),
         "--database", database or os.path.join(tmp, f"{port}.db"), *extra],
        env=env, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/ok").status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("graphpool serve did not start")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _load(url: str, clients: int, runs: int) -> tuple[float, list[float], list[float]]:
    from langgraph_sdk import get_client

    first: list[float] = []
    done: list[float] = []

    async def one_client() -> None:
        client = get_client(url=url, timeout=120)
        for _ in range(runs):
            began = time.perf_counter()
            seen = False
            async for part in client.runs.stream(None, "seed", input={"results": []}):
                if not seen and part.event != "metadata":
                    first.append(time.perf_counter() - began)
                    seen = True
            done.append(time.perf_counter() - began)
        await client.http.client.aclose()

    began = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return time.perf_counter() - began, first, done


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--flood", type=int, default=400)
    parser.add_argument("--max-queue", type=int, default=100)
    parser.add_argument("--out", default=str(HERE / "results" / "server.md"))
    parser.add_argument("--database", help="postgresql://... (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, url = _start(tmp, args.database, "--max-queue", str(args.max_queue))
        try:
            wall, first, done = asyncio.run(_load(url, args.clients, args.runs))
            print(f"load: {args.clients * args.runs / wall:.1f} runs/s", flush=True)
            accepted, refused, finished = asyncio.run(_flood(url, args.flood))
            peak = _peak_rss_mb(process.pid)
        finally:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(30)
    total = args.clients * args.runs
    lines = [
        "# graphpool serve under load",
        "",
        f"{args.clients} langgraph_sdk async clients, each streaming {args.runs} stateless runs"
        " of the seed graph (three 50 ms branches), on 127.0.0.1; "
        f"{os.cpu_count()} cores; {'PostgreSQL' if args.database else 'SQLite'};"
        " `python bench/bench_server.py`.",
        "",
        "| runs | runs/s | first event p50 | p99 | completion p50 | p99 | server peak RSS |",
        "|---|---|---|---|---|---|---|",
        f"| {total} | {total / wall:.1f} | {_pct(first, 0.5):.3f} s | {_pct(first, 0.99):.3f} s"
        f" | {_pct(done, 0.5):.3f} s | {_pct(done, 0.99):.3f} s | {peak:.0f} MB |",
        "",
        f"Flood: {args.flood} background runs at once against `--max-queue {args.max_queue}`:"
        f" {accepted} accepted, {refused} refused with 503, {finished} of the accepted"
        " finished with success.",
        "",
        "Not yet measured here: `langgraph dev` on the same graph (issue 18 quotes 13.2 runs/s,"
        " first event p50 3.6 s, p99 3.9 s for 50 clients x 8 runs on this machine).",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    Path(args.out).write_text(report)


if __name__ == "__main__":
    main()
