"""The ``graphpool`` command: ``run`` (final state, trace, timeline, progress) and ``draw``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from itertools import combinations
from pathlib import Path

import pytest

from graphpool._cli import load_target, main

ROOT = Path(__file__).resolve().parent.parent
SRC = str(ROOT / "src")


def graphpool_cmd(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "graphpool", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_seed_demo_run_prints_final_state_and_trace_shows_branches_overlapping(
    tmp_path: Path,
) -> None:
    trace = tmp_path / "t.json"
    done = graphpool_cmd(
        "run",
        "examples/seed_demo.py:graph",
        "--input",
        '{"results": []}',
        "--trace",
        str(trace),
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    final = json.loads(done.stdout.strip().splitlines()[-1])
    assert final == {"results": ["A", "B", "C", "Collected: A, B, C"]}
    assert "Final State:" in done.stderr  # the demo's own prints at import go to stderr
    events = json.loads(trace.read_text())["traceEvents"]
    spans = {}
    for e in events:
        if e["ph"] == "X" and e["name"] in ("A", "B", "C"):
            spans[e["name"]] = (e["ts"], e["ts"] + e["dur"], e["tid"])
    assert sorted(spans) == ["A", "B", "C"]
    for x, y in combinations("ABC", 2):
        (s1, e1, lane1), (s2, e2, lane2) = spans[x], spans[y]
        assert s1 < e2 and s2 < e1, f"{x} and {y} do not overlap in time"
        assert lane1 != lane2, f"{x} and {y} ran on the same worker lane"


GRAPH_MODULE = """
import operator
from typing import Annotated, TypedDict
from graphpool import END, START, StateGraph

class S(TypedDict):
    n: int
    log: Annotated[list, operator.add]

def step(state):
    return {"n": state["n"] + 1, "log": [state["n"]]}

builder = StateGraph(S)
builder.add_node("step", step)
builder.add_edge(START, "step")
builder.add_conditional_edges("step", lambda s: "step" if s["n"] < 3 else END, ["step", END])
compiled = builder.compile()

def make():
    return builder
print("imported")
"""


@pytest.fixture
def target(tmp_path: Path) -> str:
    path = tmp_path / f"graph_{tmp_path.name}.py"
    path.write_text(textwrap.dedent(GRAPH_MODULE))
    return str(path)


def test_run_builder_compiled_and_factory(target: str, capsys: pytest.CaptureFixture) -> None:
    for attr in ("builder", "compiled", "make"):
        assert main(["run", f"{target}:{attr}", "--input", '{"n": 0}', "--progress", "none"]) == 0
        out, err = capsys.readouterr()
        assert json.loads(out) == {"n": 3, "log": [0, 1, 2]}
        assert "imported" in err  # what the module prints at import goes to stderr


def test_run_options(target: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "in.json").write_text('{"n": 1}')
    timeline = tmp_path / "t.png"
    argv = ["run", f"{target}:builder", "--input", f"@{tmp_path / 'in.json'}"]
    argv += ["--workers", "2", "--executor", "thread", "--scheduling", "eager", "--async"]
    argv += ["--thread-id", "t1", "--timeline", str(timeline), "--progress", "plain"]
    argv += ["--indent", "2"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"n": 3, "log": [1, 2]}
    assert "\n  " in out  # indented
    assert "step 2  step: done in" in err
    assert timeline.read_bytes().startswith(b"\x89PNG")


def test_run_failure_exits_1_with_traceback(target: str, capsys: pytest.CaptureFixture) -> None:
    argv = ["run", f"{target}:builder", "--input", '{"n": 0}', "--recursion-limit", "2"]
    assert main([*argv, "--progress", "none"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "GraphRecursionError" in err and "Traceback" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "nocolon"], "expected MODULE:ATTR"),
        (["run", "missing_file.py:g"], "no such file"),
        (["run", "no_such_module_xyz:g"], "no module named"),
        (["run", "{target}:nothing"], "has no attribute 'nothing'"),
        (["run", "{target}:S"], "is a _TypedDictMeta, not a StateGraph"),
        (["run", "{target}:builder", "--input", "{bad"], "--input is not valid JSON"),
        (["run", "{target}:compiled", "--scheduling", "eager"], "already compiled"),
    ],
)
def test_usage_errors_exit_2(
    target: str, argv: list[str], message: str, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([a.replace("{target}", target) for a in argv])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_langgraph_graph_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "lg_graph.py"
    path.write_text(
        "from typing import TypedDict\nfrom langgraph.graph import StateGraph, START\n"
        "class S(TypedDict):\n    x: int\n"
        "b = StateGraph(S)\nb.add_node('a', lambda s: s)\nb.add_edge(START, 'a')\n"
    )
    with pytest.raises(Exception, match="is a LangGraph graph; build it with graphpool"):
        load_target(f"{path}:b")


def test_log_level_prints_run_step_node(target: str, capsys: pytest.CaptureFixture) -> None:
    argv = ["--log-level", "DEBUG", "run", f"{target}:builder", "--input", '{"n": 2}']
    try:
        assert main([*argv, "--progress", "none"]) == 0
    finally:
        import logging

        log = logging.getLogger("graphpool")
        for handler in log.handlers[:]:
            if not isinstance(handler, logging.NullHandler):
                log.removeHandler(handler)
        log.setLevel(logging.NOTSET)
    err = capsys.readouterr().err
    assert "step=1 node=step task step started (attempt 1)" in err


def test_draw_prints_langgraph_mermaid_and_a_png(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    png = tmp_path / "g.png"
    assert main(["draw", f"{target}:compiled", "--png", str(png), "--renderer", "matplotlib"]) == 0
    out, err = capsys.readouterr()
    assert out == load_target(f"{target}:compiled").get_graph().draw_mermaid()
    assert out.startswith("---\nconfig:\n  flowchart:\n    curve: linear\n---\ngraph TD;\n")
    assert "\tstep -.-> step;\n" in out
    assert png.read_bytes().startswith(b"\x89PNG")
    assert "rendered with matplotlib" in err
    mmd = tmp_path / "g.mmd"
    assert main(["draw", f"{target}:builder", "-o", str(mmd)]) == 0
    assert mmd.read_text() == out


def test_missing_matplotlib_is_reported_before_the_run(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import now fails
    argv = ["run", f"{target}:builder", "--input", '{"n": 0}', "--timeline", "t.png"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and "pip install 'graphpool[plot]'" in err


def test_log_level_is_accepted_after_the_command_too(
    target: str, capsys: pytest.CaptureFixture
) -> None:
    import logging

    log = logging.getLogger("graphpool")
    try:
        argv = ["run", f"{target}:builder", "--input", '{"n": 2}', "--log-level", "DEBUG"]
        assert main([*argv, "--progress", "none"]) == 0
        err = capsys.readouterr().err
        assert "step=1 node=step task step started (attempt 1)" in err
        assert log.level == logging.DEBUG
        # given before the command and not after it, the command's default leaves it alone
        assert main(["--log-level", "INFO", "draw", f"{target}:builder"]) == 0
        assert log.level == logging.INFO
    finally:
        for handler in log.handlers[:]:
            if not isinstance(handler, logging.NullHandler):
                log.removeHandler(handler)
        log.setLevel(logging.NOTSET)


PAUSING_SCRIPT = """
import dataclasses, json, operator, sys
from typing import Annotated, TypedDict
from graphpool import START, Command, StateGraph, interrupt
from graphpool.checkpoint.sqlite import SqliteSaver

@dataclasses.dataclass
class Item:
    name: str
    ok: str = ""

class S(TypedDict, total=False):
    items: Annotated[list, operator.add]

def pack(state):
    return {"items": [Item("box")]}

def ask(state):
    answer = interrupt(f"ship {state['items'][-1].name}?")
    return {"items": [Item("box", ok=answer)]}

builder = StateGraph(S)
builder.add_node("pack", pack)
builder.add_node("ask", ask)
builder.add_edge(START, "pack")
builder.add_edge("pack", "ask")

if __name__ == "__main__":
    db, thread, what = sys.argv[1:4]
    graph = builder.compile(checkpointer=SqliteSaver(db))
    config = {"configurable": {"thread_id": thread}}
    data = {"items": []} if what == "start" else Command(resume=what)
    out = graph.invoke(data, config)
    print(json.dumps([dataclasses.asdict(i) for i in out["items"]]))
"""


@pytest.fixture
def pausing(tmp_path: Path) -> Path:
    path = tmp_path / "shipping.py"
    path.write_text(PAUSING_SCRIPT)
    return path


def _script(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, str(path), *args],
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_resume_an_interrupt_from_the_shell(pausing: Path) -> None:
    db = str(pausing.parent / "runs.db")
    common = ["run", f"{pausing.name}:builder", "--sqlite", db, "--thread", "t1"]
    first = graphpool_cmd(*common, "--input", '{"items": []}', cwd=pausing.parent)
    assert first.returncode == 0, first.stderr
    paused = json.loads(first.stdout.strip().splitlines()[-1])
    assert paused["__interrupt__"][0]["value"] == "ship box?"
    assert "--thread t1 --resume VALUE" in first.stderr
    second = graphpool_cmd(*common, "--resume", '"yes"', cwd=pausing.parent)
    assert second.returncode == 0, second.stderr
    final = json.loads(second.stdout.strip().splitlines()[-1])
    assert final == {"items": [{"name": "box", "ok": ""}, {"name": "box", "ok": "yes"}]}


def test_a_thread_the_script_saved_resumes_through_the_command_and_back(pausing: Path) -> None:
    db = str(pausing.parent / "runs.db")
    started = _script(pausing, db, "t1", "start")
    assert started.returncode == 0, started.stderr
    # saved by ``python shipping.py`` (classes in __main__), continued by the command
    done = graphpool_cmd(
        "run",
        f"{pausing.name}:builder",
        "--sqlite",
        db,
        "--thread",
        "t1",
        "--resume",
        "yes",
        cwd=pausing.parent,
    )
    assert done.returncode == 0, done.stderr
    final = json.loads(done.stdout.strip().splitlines()[-1])
    assert final["items"][-1] == {"name": "box", "ok": "yes"}
    # and the other way: started by the command, continued by the script
    begun = graphpool_cmd(
        "run",
        f"{pausing.name}:builder",
        "--sqlite",
        db,
        "--thread",
        "t2",
        "--input",
        "{}",
        cwd=pausing.parent,
    )
    assert begun.returncode == 0, begun.stderr
    resumed = _script(pausing, db, "t2", "no")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)[-1] == {"name": "box", "ok": "no"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--resume", "1"], "--resume needs --thread"),
        (["--thread", "t", "--resume", "1"], "--resume needs a checkpointer"),
        (["--thread", "t", "--resume", "1", "--input", "{}"], "--input or --resume, not both"),
    ],
)
def test_resume_usage_errors(
    target: str, extra: list[str], message: str, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", f"{target}:builder", *extra])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_sqlite_flag_refuses_a_graph_compiled_with_its_own_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "own.py"
    path.write_text(
        "from typing import TypedDict\n"
        "from graphpool import START, StateGraph\n"
        "from graphpool.checkpoint import InMemorySaver\n"
        "class S(TypedDict):\n    x: int\n"
        "b = StateGraph(S)\nb.add_node('a', lambda s: s)\nb.add_edge(START, 'a')\n"
        "g = b.compile(checkpointer=InMemorySaver())\n"
    )
    with pytest.raises(Exception, match="compiled with its own checkpointer"):
        load_target(f"{path}:g", checkpointer=object())
