"""executor="ray": nodes as Ray tasks on a real two-node Ray cluster on loopback.

The cluster is two ``ray start`` processes (a head and a worker node, each with
its own raylet and one CPU), started once for this module and stopped by pid.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import operator
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, TypedDict

import cloudpickle
import pytest

import graphpool
from graphpool import (
    START,
    InvalidGraphError,
    NodeTimeoutError,
    RayPool,
    RetryPolicy,
    SerializationError,
    StateGraph,
    WorkerCrashedError,
)
from graphpool._pool import Pools
from graphpool._pool._ray import ADDRESS_ENV
from graphpool._pool._ray_local import LOOPBACK_SWITCH, starts_local_instance
from graphpool._testing_ray import _AUTH_ENV, LOOPBACK_ENV
from graphpool.errors import PoolShutDownError, TaskCancelledError
from graphpool.testing import LocalRayCluster

try:
    import ray
except ImportError:  # pragma: no cover - CI installs the ray extra
    ray = None

needs_ray = pytest.mark.skipif(
    ray is None, reason="Ray is not installed: pip install 'graphpool[ray]'"
)

# Ray workers cannot import this test module: send its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

FAST_RETRY = RetryPolicy(initial_interval=0.01, backoff_factor=1.0, jitter=False, max_attempts=3)


class S(TypedDict, total=False):
    x: int
    blob: bytes
    out: Annotated[list, operator.add]
    where: Annotated[list, operator.add]


@pytest.fixture(scope="module")
def cluster():
    with LocalRayCluster(2, num_cpus=1, worker_resources={"gp_worker": 1}) as running:
        yield running


@pytest.fixture(scope="module")
def ray_pool(cluster):
    pool = RayPool(address=cluster.address)
    pool.connect()
    deadline = time.monotonic() + 30
    while sum(n["Alive"] for n in ray.nodes()) < 2:
        assert time.monotonic() < deadline, "the worker node never joined"
        time.sleep(0.2)
    yield pool
    pool.shutdown()


@pytest.fixture
def pools(ray_pool):
    threads = graphpool.ThreadPool(max_workers=8)
    yield Pools(threads, lambda: None, ray=lambda: ray_pool)  # type: ignore[arg-type,return-value]
    threads.shutdown(wait=False, cancel_futures=True)


def compiled(builder: StateGraph, pools: Pools, **options):
    graph = builder.compile(**options)
    graph._pools = pools
    return graph


def warm_workers(pools: Pools, tmp_path: Path) -> None:
    """Leave an idle Ray worker process on each node. A node's timeout counts from
    submission (a task may wait for resources), and a node with no idle worker
    starts one first: seconds on a loaded machine. Two tasks that wait for each
    other run at once, so one on each node (each has one CPU)."""
    met = tmp_path / "met"
    met.mkdir()

    def arrive(i: int):
        def node(state: S) -> dict:
            (met / str(i)).touch()
            deadline = time.monotonic() + 60
            while len(list(met.iterdir())) < 2:
                assert time.monotonic() < deadline, "the other warm-up task never ran"
                time.sleep(0.01)
            return {"where": [node_id()]}

        return node

    b = StateGraph(S)
    for i in range(2):
        b.add_node(f"warm{i}", arrive(i), executor="ray")
        b.add_edge(START, f"warm{i}")
    assert len(set(compiled(b, pools).invoke({})["where"])) == 2


def node_id() -> str:
    return ray.get_runtime_context().get_node_id()


def count_primes(lo: int, hi: int) -> int:
    return sum(all(k % d for d in range(2, int(k**0.5) + 1)) for k in range(max(lo, 2), hi))


# -- on the cluster ---------------------------------------------------------------


@needs_ray
def test_cpu_fan_out_spreads_over_both_nodes_and_matches_threads(pools) -> None:
    def shard(i: int):
        def work(state: S) -> dict:
            start = time.monotonic()
            while time.monotonic() - start < 0.4:  # hold the node's only CPU a while
                count_primes(0, 2000)
            primes = count_primes(i * 20_000, (i + 1) * 20_000)
            return {"out": [(i, primes, state["x"])], "where": [node_id()]}

        return work

    b = StateGraph(S)
    b.add_node("split", lambda s: {"x": s["x"] + 1})
    b.add_edge(START, "split")
    for i in range(6):
        b.add_node(f"shard{i}", shard(i))
        b.add_edge("split", f"shard{i}")
    on_ray = compiled(b, pools, executor="ray").invoke({"x": 1})
    on_threads = compiled(b, pools).invoke({"x": 1})
    assert len(set(on_ray["where"])) == 2  # both Ray nodes ran shards
    on_ray.pop("where"), on_threads.pop("where")
    assert on_ray == on_threads
    assert on_ray["out"][0] == (0, 2262, 2)  # primes below 20,000


@needs_ray
def test_worker_killed_mid_task_is_retried(pools, ray_pool, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"

    def victim(state: S) -> dict:
        if not pid_file.exists():  # first attempt: announce, then work "forever"
            (tmp_path / "pid.tmp").write_text(str(os.getpid()))
            (tmp_path / "pid.tmp").rename(pid_file)
            time.sleep(120)
        return {"x": state["x"] * 10, "out": [os.getpid()]}

    b = StateGraph(S)
    b.add_node("victim", victim, executor="ray", retry_policy=FAST_RETRY)
    b.add_edge(START, "victim")
    graph = compiled(b, pools)
    crashed_before = ray_pool.statistics().crashed
    with ThreadPoolExecutor(1) as runner:
        running = runner.submit(graph.invoke, {"x": 4})
        deadline = time.monotonic() + 30
        while not pid_file.exists():
            assert time.monotonic() < deadline and not running.done(), "the node never started"
            time.sleep(0.02)
        victim_pid = int(pid_file.read_text())
        os.kill(victim_pid, signal.SIGKILL)
        result = running.result(timeout=60)
    assert result["x"] == 40
    assert result["out"] != [victim_pid]  # the retry ran in another worker process
    assert ray_pool.statistics().crashed == crashed_before + 1


@needs_ray
def test_hung_node_times_out_within_3_s_and_the_cluster_keeps_serving(pools, tmp_path) -> None:
    pid_file = tmp_path / "pid"

    def hang(state: S) -> dict:
        pid_file.write_text(str(os.getpid()))
        time.sleep(600)
        return {}

    b = StateGraph(S)
    b.add_node("hang", hang, executor="ray", timeout=2)
    b.add_edge(START, "hang")
    graph = compiled(b, pools)
    warm_workers(pools, tmp_path)  # the body starts at once (it used not to, under load)
    started = time.monotonic()
    with pytest.raises(NodeTimeoutError, match=r"'hang' timed out after 2 s"):
        graph.invoke({})
    assert time.monotonic() - started < 3
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(pid):  # ray.cancel(force=True) killed the worker process
        assert time.monotonic() < deadline, f"worker {pid} still alive"
        time.sleep(0.05)

    ok = StateGraph(S)
    ok.add_node("n", lambda s: {"x": 5}, executor="ray")
    ok.add_edge(START, "n")
    assert compiled(ok, pools).invoke({})["x"] == 5


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][0] != "Z"  # a zombie is dead
    except FileNotFoundError:
        return False


@needs_ray
def test_node_exception_reaches_caller_with_its_own_type(pools) -> None:
    def bad(state: S) -> dict:
        json.loads("{" * state["x"])  # json.JSONDecodeError, a ValueError subclass
        return {}

    b = StateGraph(S)
    b.add_node("bad", bad, executor="ray")
    b.add_edge(START, "bad")
    with pytest.raises(json.JSONDecodeError) as info:
        compiled(b, pools).invoke({"x": 3}, {"run_id": "run-7"})
    assert type(info.value) is json.JSONDecodeError and info.value.pos == 1
    assert any("'bad'" in n and "run-7" in n for n in info.value.__notes__)
    assert "_run_node" in str(info.value.__cause__)  # the remote traceback, chained

    b = StateGraph(S)
    b.add_node("key", lambda s: {}["missing"], executor="ray")
    b.add_edge(START, "key")
    with pytest.raises(KeyError) as missing:
        compiled(b, pools).invoke({})
    assert type(missing.value) is KeyError


@needs_ray
def test_large_state_is_put_once_per_step(pools, ray_pool) -> None:
    blob = os.urandom(1_000_000)

    def reader(i: int):
        return lambda s: {"out": [(i, len(s["blob"]), s["blob"][:4])]}

    b = StateGraph(S)
    b.add_node("make", lambda s: {"blob": blob})  # a thread node
    b.add_edge(START, "make")
    for i in range(4):
        b.add_node(f"r{i}", reader(i), executor="ray")
        b.add_edge("make", f"r{i}")
    graph = compiled(b, pools)
    puts = ray_pool.statistics().puts
    result = graph.invoke({"x": 1})
    assert result["out"] == [(i, 1_000_000, blob[:4]) for i in range(4)]
    assert ray_pool.statistics().puts == puts + 1  # four tasks, one copy in the store

    small = StateGraph(S)
    small.add_node("a", lambda s: {"out": [s["x"]]}, executor="ray")
    small.add_node("b", lambda s: {"out": [-s["x"]]}, executor="ray")
    small.add_edge(START, "a")
    small.add_edge(START, "b")
    assert compiled(small, pools).invoke({"x": 2})["out"] == [2, -2]
    assert ray_pool.statistics().puts == puts + 1  # small inputs travel inline


@needs_ray
def test_resource_hints_place_a_node_on_the_machine_that_has_them(pools) -> None:
    workers = {n["NodeID"] for n in ray.nodes() if n["Alive"] and "gp_worker" in n["Resources"]}
    b = StateGraph(S)
    for i in range(3):
        b.add_node(
            f"pinned{i}",
            lambda s: {"where": [node_id()]},
            executor="ray",
            resources={"num_cpus": 1, "custom": {"gp_worker": 1}},
        )
        b.add_edge(START, f"pinned{i}")
    assert set(compiled(b, pools).invoke({})["where"]) == workers


@needs_ray
def test_async_node_and_config_on_ray(pools) -> None:
    async def node(state: S, config) -> dict:
        return {"out": [config["configurable"]["tag"], config["metadata"]["langgraph_node"]]}

    b = StateGraph(S)
    b.add_node("anode", node, executor="ray")
    b.add_edge(START, "anode")
    result = compiled(b, pools).invoke({}, {"configurable": {"tag": "t1"}})
    assert result["out"] == ["t1", "anode"]


@needs_ray
def test_ainvoke_and_eager_scheduling_on_ray(pools) -> None:
    b = StateGraph(S)
    b.add_node("first", lambda s: {"x": s["x"] + 1})
    b.add_edge(START, "first")
    for i in range(3):
        b.add_node(f"w{i}", lambda s, i=i: {"out": [s["x"] * i]}, executor="ray")
        b.add_edge("first", f"w{i}")
    expected = {"x": 2, "out": [0, 2, 4], "where": []}
    assert asyncio.run(compiled(b, pools).ainvoke({"x": 1})) == expected
    eager = compiled(b, pools, scheduling="eager").invoke({"x": 1})
    assert sorted(eager["out"]) == [0, 2, 4] and eager["x"] == 2


@needs_ray
def test_unpicklable_state_fails_naming_node_and_key_before_running(pools) -> None:
    class Holder(TypedDict, total=False):
        x: int
        handle: object

    b = StateGraph(Holder)
    b.add_node("prep", lambda s: {"handle": threading.Lock()})
    b.add_node("remote", lambda s: {"x": 1}, executor="ray")
    b.add_edge(START, "prep")
    b.add_edge("prep", "remote")
    submitted = pools.ray.statistics().submitted
    with pytest.raises(SerializationError, match=r"'remote'.*'handle'") as info:
        compiled(b, pools).invoke({})
    assert info.value.node == "remote"
    assert pools.ray.statistics().submitted == submitted  # nothing was sent


@needs_ray
def test_config_executor_sends_nodes_to_ray(pools) -> None:
    b = StateGraph(S)
    b.add_node("where", lambda s: {"out": [os.getpid()]})
    b.add_edge(START, "where")
    graph = compiled(b, pools)
    assert graph.invoke({}, {"executor": "ray"})["out"] != [os.getpid()]
    assert graph.invoke({})["out"] == [os.getpid()]


def _driver_env(*, to_cluster: bool) -> dict[str, str]:
    """A driver process's environment: no Ray or graphpool-Ray settings but, to reach
    the test cluster, its auth token and Ray's loopback switch (as the cluster set them)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "GRAPHPOOL_RAY"))}
    if to_cluster:
        names = (*_AUTH_ENV, LOOPBACK_ENV)
        env.update({k: v for k, v in os.environ.items() if k in names})
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(graphpool.__file__).parents[1]), env.get("PYTHONPATH", "")]
    )
    return env


RAY_ADDRESS_DRIVER = """
import os, sys, time
t0 = time.monotonic()
from typing import TypedDict
from graphpool import START, StateGraph

class S(TypedDict):
    pid: int

def where(state):
    print("printed by the node", flush=True)  # forwarded to the driver by default
    return {"pid": os.getpid()}

b = StateGraph(S)
b.add_node("n", where, executor="ray")
b.add_edge(START, "n")
ran_elsewhere = b.compile().invoke({"pid": 0})["pid"] != os.getpid()
# one write: Ray's thread that forwards the node's output writes to this stdout too
sys.stdout.write(f"graph {ran_elsewhere} {time.monotonic() - t0}\\n")
sys.stdout.flush()
time.sleep(3)  # Ray forwards worker output a moment later
"""

BARE_DRIVER = """
import time
t0 = time.monotonic()
import ray
ray.init()
print("bare", time.monotonic() - t0, ray.get_runtime_context().gcs_address)
"""


@needs_ray
@pytest.mark.timeout(240)
def test_ray_address_alone_joins_a_ray_start_cluster_as_fast_as_bare_ray_init(cluster) -> None:
    # The cluster is ``ray start --head`` (and a worker node) on loopback; the
    # drivers are told its address only through Ray's own RAY_ADDRESS.
    env = {**_driver_env(to_cluster=True), "RAY_ADDRESS": cluster.address}

    def drive(code: str, **extra: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", code],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=100,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return (done.stdout + done.stderr).splitlines()

    [bare] = [line.split() for line in drive(BARE_DRIVER) if line.startswith("bare ")]
    assert bare[2] == cluster.address  # Ray itself joined the running cluster
    out = drive(RAY_ADDRESS_DRIVER)
    # searched, not matched per line: a line Ray forwards may not have ended yet
    found = re.findall(r"graph (True|False) ([0-9.e-]+)", "\n".join(out))
    assert len(found) == 1, out
    graph = ("graph", *found[0])
    assert graph[1] == "True"  # the node ran in a Ray worker process
    # what used to wait ~60 s for a raylet on the wrong address, then fail
    assert float(graph[2]) < float(bare[1]) + 10, (graph, bare)
    assert any("printed by the node" in line for line in out)  # log_to_driver by default
    quiet = drive(RAY_ADDRESS_DRIVER, GRAPHPOOL_RAY_LOG_TO_DRIVER="0")
    assert not any("printed by the node" in line for line in quiet)


def test_init_arguments_follow_the_environment(monkeypatch) -> None:
    for name in (ADDRESS_ENV, "GRAPHPOOL_RAY_LOG_TO_DRIVER"):
        monkeypatch.delenv(name, raising=False)
    plain = RayPool().init_arguments()
    assert plain["address"] is None  # ray.init decides: RAY_ADDRESS, `ray start`, or local
    assert plain["log_to_driver"] is True and plain["include_dashboard"] is False
    assert "_node_ip_address" not in plain
    monkeypatch.setenv(ADDRESS_ENV, "ray://head:10001")
    monkeypatch.setenv("GRAPHPOOL_RAY_LOG_TO_DRIVER", "no")
    from_env = RayPool().init_arguments()
    assert from_env["address"] == "ray://head:10001" and from_env["log_to_driver"] is False
    given = RayPool("auto", log_to_driver=True, namespace="x").init_arguments()
    assert given["address"] == "auto" and given["log_to_driver"] is True
    assert given["namespace"] == "x"


def test_the_runtime_never_patches_ray() -> None:
    import inspect

    from graphpool._pool import _ray as ray_module
    from graphpool._pool import _ray_local

    for module in (ray_module, _ray_local):
        source = inspect.getsource(module)
        assert "resolve_ip_for_localhost" not in source and "_node_ip_address" not in source
        assert "ray_constants" not in source


def test_a_local_instance_is_expected_only_without_address_and_ray_start_cluster(
    monkeypatch, tmp_path
) -> None:
    # As ray.init(address=None) decides: RAY_ADDRESS, else the file `ray start`
    # writes in Ray's temp folder, else a new local instance.
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    assert starts_local_instance(None)
    assert not starts_local_instance("auto") and not starts_local_instance("ray://h:1")
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    assert not starts_local_instance(None)
    monkeypatch.delenv("RAY_ADDRESS")
    (tmp_path / "ray").mkdir()
    (tmp_path / "ray" / "ray_current_cluster").write_text("127.0.0.1:6379")
    assert not starts_local_instance(None)  # a `ray start` cluster: Ray joins it
    assert starts_local_instance(None, temp_dir=str(tmp_path))  # ray.init(_temp_dir=...)


FRESH_DRIVER = f"""
import os
from typing import TypedDict
from graphpool import StateGraph, START
class S(TypedDict):
    pid: int
b = StateGraph(S)
b.add_node('n', lambda s: {{'pid': os.getpid()}}, executor='ray')
b.add_edge(START, 'n')
print(b.compile().invoke({{'pid': 0}})['pid'] != os.getpid())
import ray  # graphpool imported it: the node ran
print(sorted(n['NodeManagerAddress'] for n in ray.nodes() if n['Alive']))
print(ray.get_runtime_context().gcs_address, os.environ.get({LOOPBACK_SWITCH!r}))
"""


@needs_ray
@pytest.mark.parametrize("where", ["env", "found", "local"])
def test_connecting_from_a_fresh_process(cluster, where: str, tmp_path) -> None:
    # GRAPHPOOL_RAY_ADDRESS joins the cluster, and so does no address at all while
    # `ray start` has recorded the cluster in Ray's temp folder (Ray's discovery).
    # With neither, graphpool's local instance of one node is on 127.0.0.1 only
    # (Ray's switch, set just while graphpool imported Ray).
    env = _driver_env(to_cluster=where != "local")
    if where == "env":
        env["GRAPHPOOL_RAY_ADDRESS"] = cluster.address
    elif where == "found":
        env["RAY_TMPDIR"] = str(cluster._folder)  # its `ray start` wrote ray/ray_current_cluster
        assert not starts_local_instance(None, str(cluster._folder / "ray"))
    else:
        env["HOME"] = str(tmp_path)  # Ray keeps a local instance's token in ~/.ray
        env["RAY_TMPDIR"] = tempfile.mkdtemp(prefix="gp-")  # short: Ray's socket paths
    try:
        done = subprocess.run(
            [sys.executable, "-c", FRESH_DRIVER],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
    finally:
        if where == "local":
            shutil.rmtree(env["RAY_TMPDIR"], ignore_errors=True)
    assert done.returncode == 0, done.stderr[-3000:]
    ran, nodes, last = done.stdout.splitlines()
    gcs, switch = last.split()
    assert ran == "True"
    if where == "local":
        assert nodes == str(["127.0.0.1"]) and gcs.startswith("127.0.0.1:")
        assert switch == "None"  # the driver's environment is as it was
    else:
        assert nodes == str(["127.0.0.1", "127.0.0.1"]) and gcs == cluster.address


ORPHAN_DRIVER = """
import os, sys, time
from typing import TypedDict
from graphpool import START, StateGraph

PID_FILE = sys.argv[1]  # read here: the task runs in a Ray worker, with its own argv

class S(TypedDict, total=False):
    x: int

def stuck(state):
    with open(PID_FILE, "w") as f:
        f.write(str(os.getpid()))
    while True:  # busy: it would burn a CPU of the cluster for ever
        pass

b = StateGraph(S)
b.add_node("stuck", stuck, executor="ray")
b.add_edge(START, "stuck")
b.compile().invoke({})
"""


@needs_ray
def test_a_sigkilled_driver_leaves_no_ray_task_running(cluster, tmp_path) -> None:
    # Ray ends the tasks of a job whose driver died (here: SIGKILL), as it does
    # for a driver that exits; its worker process goes.
    script, pid_file = tmp_path / "driver.py", tmp_path / "task.pid"
    script.write_text(ORPHAN_DRIVER)
    env = _driver_env(to_cluster=True)
    env["GRAPHPOOL_RAY_ADDRESS"] = cluster.address
    log = tmp_path / "driver.log"
    with open(log, "wb") as out:
        driver = subprocess.Popen(
            [sys.executable, str(script), str(pid_file)], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 90
        while not (pid_file.exists() and pid_file.read_text()):
            running = driver.poll() is None and time.monotonic() < deadline
            assert running, f"the task never ran: {log.read_text()[-3000:]}"
            time.sleep(0.1)
        task = int(pid_file.read_text())
        assert _running(task)
        driver.send_signal(signal.SIGKILL)
        driver.wait(10)
        deadline = time.monotonic() + 30
        while _running(task) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(task), "the Ray task outlived its driver"
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


NODE_DEATH = """
import os, signal, sys, time
from graphpool import RayPool, WorkerCrashedError
from graphpool.testing import LocalRayCluster

with LocalRayCluster(2, worker_resources={"doomed": 1}) as cluster:
    import ray

    pool = RayPool(address=cluster.address)
    pool.connect()
    while sum(n["Alive"] for n in ray.nodes()) < 2:
        time.sleep(0.1)
    started = sys.argv[1]

    def stuck(_):
        open(started, "w").close()
        time.sleep(120)

    ref = pool.submit_call(stuck, None, {"resources": {"doomed": 1}})
    while not os.path.exists(started):
        time.sleep(0.05)
    os.killpg(cluster.pids[1], signal.SIGKILL)  # the whole second Ray node dies
    try:
        pool.result(ref, node="stuck")
    except WorkerCrashedError as exc:
        print(type(exc.__cause__).__name__, pool.statistics().crashed)
    pool.shutdown()
"""


@needs_ray
def test_a_ray_node_that_dies_mid_task_is_a_worker_crash(tmp_path) -> None:
    # Its own cluster, in its own process: this one loses a node.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "GRAPHPOOL_RAY"))}
    env["PYTHONPATH"] = str(Path(graphpool.__file__).parents[1])
    done = subprocess.run(
        [sys.executable, "-c", NODE_DEATH, str(tmp_path / "started")],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["NodeDiedError", "1"]


@needs_ray
def test_ray_call_returns_the_value_and_maps_a_dead_worker(ray_pool) -> None:
    refs: list = []
    assert ray_pool.call(lambda s: s + 1, 1, node="n", submitted=refs.append) == 2
    assert len(refs) == 1
    with pytest.raises(WorkerCrashedError, match=r"'boom' died .*attempt 2, run r-1") as e:
        ray_pool.call(lambda s: os._exit(1), None, node="boom", attempt=2, run_id="r-1")
    assert (e.value.node, e.value.attempt, e.value.run_id) == ("boom", 2, "r-1")


def test_a_shut_down_ray_pool_refuses_work_with_pool_shut_down_error() -> None:
    pool = RayPool(address="127.0.0.1:1")  # never connects
    pool.shutdown()
    for attempt in (pool.connect, lambda: pool.submit(len, "x")):
        with pytest.raises(PoolShutDownError, match="shut down"):
            attempt()
    with pytest.raises(TaskCancelledError, match=r"'n' was not run to the end") as e:
        pool.call(len, "x", node="n", run_id="r")
    assert e.value.node == "n" and isinstance(e.value.__cause__, PoolShutDownError)


@needs_ray
def test_ray_pool_is_an_executor(ray_pool) -> None:
    assert ray_pool.submit(operator.add, 2, 3).result(timeout=30) == 5
    assert ray_pool.submit(pow, 2, exp=10).result(timeout=30) == 1024


# -- without a cluster ------------------------------------------------------------


def test_without_ray_the_error_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'graphpool\[ray\]'"):
        StateGraph(S).add_node("n", lambda s: None, executor="ray")
    b = StateGraph(S)
    b.add_node("n", lambda s: None)
    b.add_edge(START, "n")
    with pytest.raises(ImportError, match=r"pip install 'graphpool\[ray\]'"):
        b.compile(executor="ray")
    pools = Pools(graphpool.ThreadPool(max_workers=2), lambda: None, ray=RayPool)  # type: ignore[arg-type,return-value]
    graph = b.compile()
    graph._pools = pools
    with pytest.raises(ImportError, match=r"pip install 'graphpool\[ray\]'"):
        graph.invoke({}, {"executor": "ray"})


@needs_ray
@pytest.mark.parametrize(
    ("resources", "executor", "match"),
    [
        ({"num_cpu": 1}, "ray", "unknown resource 'num_cpu'"),
        ({"num_gpus": -1}, "ray", "num_gpus must be a number >= 0"),
        ({"memory": 1.5}, "ray", "memory must be an int"),
        ({"custom": ["gpu"]}, "ray", "must map names to amounts"),
        ({"custom": {"gpu": "one"}}, "ray", r"custom\['gpu'\]"),
        ({"num_cpus": 1}, "thread", "resources are for executor='ray'"),
    ],
)
def test_bad_resources_fail_in_add_node(resources, executor, match) -> None:
    with pytest.raises(InvalidGraphError, match=match):
        StateGraph(S).add_node("n", lambda s: None, executor=executor, resources=resources)


@needs_ray
def test_unpicklable_ray_node_fails_in_add_node() -> None:
    lock = threading.Lock()
    with pytest.raises(SerializationError, match=r"'locked'.*Ray"):
        StateGraph(S).add_node("locked", lambda s: lock.locked() and None, executor="ray")


def test_the_local_cluster_is_a_test_helper_outside_the_runtime_package() -> None:
    from graphpool import _testing_ray

    assert LocalRayCluster is _testing_ray.LocalRayCluster
    assert importlib.util.find_spec("graphpool._pool._ray_cluster") is None
    # the nodes import graphpool (and node functions) from this folder
    assert (_testing_ray.package_root() / "graphpool" / "__init__.py").is_file()
    runtime = Path(graphpool.__file__).parent
    importers = [
        path.relative_to(runtime)
        for path in runtime.rglob("*.py")
        if "_testing_ray" in path.read_text() and path.name not in ("testing.py", "_testing_ray.py")
    ]
    assert importers == []


def test_compile_rejects_a_pool_that_is_not_a_ray_pool() -> None:
    b = StateGraph(S)
    b.add_node("n", lambda s: None)
    b.add_edge(START, "n")
    with pytest.raises(InvalidGraphError, match="RayPool"):
        b.compile(ray_pool=graphpool.ThreadPool(max_workers=1))


# -- @task(executor="ray") ------------------------------------------------------------


@needs_ray
def test_a_ray_task_runs_as_a_ray_task_and_its_error_keeps_its_type(pools) -> None:
    from graphpool.func import entrypoint, task

    @task(executor="ray")
    def where(x: int) -> tuple[int, str, int]:
        if x < 0:
            raise KeyError(x)
        return x * 2, node_id(), os.getpid()

    @entrypoint()
    def main(xs: list[int]) -> list[tuple[int, str, int]]:
        return [f.result() for f in [where(x) for x in xs]]

    main.graph._pools = pools
    found = main.invoke([1, 2, 3])
    assert [value for value, _, _ in found] == [2, 4, 6]
    assert all(node and pid != os.getpid() for _, node, pid in found)
    with pytest.raises(KeyError):
        main.invoke([-1])


@needs_ray
def test_a_hung_ray_task_times_out_and_its_worker_is_killed(pools, tmp_path) -> None:
    from graphpool.func import entrypoint, task

    pid_file = tmp_path / "pid"

    @task(executor="ray", timeout=2)
    def hang(x: int) -> int:
        pid_file.write_text(str(os.getpid()))
        time.sleep(600)
        return x

    @entrypoint()
    def main(x: int) -> int:
        return hang(x).result()

    main.graph._pools = pools
    warm_workers(pools, tmp_path)  # the body starts at once, not after a worker's start
    with pytest.raises(NodeTimeoutError, match=r"'hang' timed out after 2 s"):
        main.invoke(1)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(pid):  # the timeout cancelled the Ray task with force=True
        assert time.monotonic() < deadline, f"worker {pid} still alive"
        time.sleep(0.05)
