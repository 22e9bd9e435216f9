"""The ``graphpool`` command: run a graph and watch it, or draw it.

::

    graphpool run examples/seed_demo.py:graph --input '{"results": []}' --trace t.json
    graphpool run app.py:graph --sqlite runs.db --thread t1 --input '{"q": "go"}'
    graphpool run app.py:graph --sqlite runs.db --thread t1 --resume '"yes"'
    graphpool draw examples/seed_demo.py:graph --png graph.png

``MODULE:ATTR`` names a Python file (``path/to/file.py``) or an importable module
(``package.module``), and in it a ``StateGraph`` builder, a compiled graph, or a
function of no arguments returning one of those. Whatever the module prints while
it is imported goes to stderr, so that stdout carries only the command's result:
for ``run``, the final state as one line of JSON, the last line of stdout.

A Python file is imported under its own name, and the classes it defines are
named as if it ran as ``python file.py`` (``__main__:Item``), so a thread that
the script saved and one the command saved hold the same class paths.

Exit status: 0 on success, 1 when the run raised (traceback on stderr), 2 for a
usage error (bad target, bad input).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib
import importlib.util
import json
import logging
import os
import shutil
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from ._builder import StateGraph
from ._compiled import CompiledStateGraph
from ._pool import WorkerPool
from ._progress import make_progress
from ._trace import Trace
from ._version import __version__

__all__ = ["load_target", "main"]

LOG_FORMAT = "%(asctime)s %(levelname)s run=%(run_id)s step=%(step)s node=%(node)s %(message)s"


class UsageError(Exception):
    """A bad command line: printed without a traceback, exit status 2."""


def _import_module(spec: str) -> Any:
    if spec.endswith(".py") or os.sep in spec or "/" in spec:
        path = os.path.abspath(spec)
        if not os.path.isfile(path):
            raise UsageError(f"no such file: {spec}")
        name = os.path.splitext(os.path.basename(path))[0]
        if name in sys.modules:
            name = f"_graphpool_target_{name}"
        loader = importlib.util.spec_from_file_location(name, path)
        if loader is None or loader.loader is None:
            raise UsageError(f"cannot import {spec}")
        module = importlib.util.module_from_spec(loader)
        sys.modules[name] = module
        sys.path.insert(0, os.path.dirname(path))
        # A script's functions travel to process workers by value, as they would
        # from ``__main__``: importing the script there would run it again.
        import cloudpickle

        cloudpickle.register_pickle_by_value(module)
        loader.loader.exec_module(module)
        _as_main(module)
        return module
    sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(spec)
    except ModuleNotFoundError as exc:
        if exc.name and spec.startswith(exc.name):
            raise UsageError(f"no module named {spec!r}") from None
        raise


def _as_main(module: Any) -> None:
    """Name a script's classes as ``python script.py`` names them: ``__main__:Item``.

    Checkpoint serializers store a class by ``module:qualname``; without this a
    thread saved by the script (``__main__:Item``) and one saved through this
    command (``script:Item``) could not load each other. Each class is also put
    in ``__main__``'s namespace, where the loader looks (never over a name there).
    """
    main = sys.modules.get("__main__")
    if main is None or main is module:
        return
    own = module.__name__
    todo = [(name, value) for name, value in vars(module).items() if isinstance(value, type)]
    for name, cls in todo:
        if cls.__module__ != own or cls.__qualname__ != name:
            continue  # imported from elsewhere, or an alias
        if name in vars(main):
            continue  # __main__ has its own thing under that name: leave both as they are
        setattr(main, name, cls)
        for inner in _defined_in(cls, own):
            inner.__module__ = "__main__"


def _defined_in(cls: type, module_name: str) -> list[type]:
    """``cls`` and the classes nested in it, all defined in ``module_name``."""
    found, todo = [], [cls]
    while todo:
        current = todo.pop()
        if current.__module__ != module_name:
            continue
        found.append(current)
        todo.extend(v for v in vars(current).values() if isinstance(v, type))
    return found


def load_target(
    target: str, *, scheduling: str | None = None, checkpointer: Any = None
) -> CompiledStateGraph:
    """The compiled graph ``MODULE:ATTR`` names (a builder is compiled; a factory is called).

    ``checkpointer``: compile a builder with it, or give it to a compiled graph
    that has none.

    Raises:
        UsageError: the target is malformed, missing, or not a graphpool graph.
    """
    module_name, sep, attr = target.rpartition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"expected MODULE:ATTR (e.g. examples/seed_demo.py:graph), got {target!r}")
    with contextlib.redirect_stdout(sys.stderr):
        module = _import_module(module_name)
        obj: Any = module
        for part in attr.split("."):
            if not hasattr(obj, part):
                raise UsageError(f"{module_name} has no attribute {attr!r}")
            obj = getattr(obj, part)
        if callable(obj) and not isinstance(obj, (StateGraph, CompiledStateGraph, type)):
            obj = obj()
    if isinstance(obj, StateGraph):
        return obj.compile(scheduling=scheduling or "superstep", checkpointer=checkpointer)
    if isinstance(obj, CompiledStateGraph):
        if scheduling is not None and scheduling != obj.scheduling:
            raise UsageError(
                f"{target} is already compiled with scheduling={obj.scheduling!r}; point at "
                "the StateGraph builder to choose --scheduling"
            )
        if checkpointer is not None:
            if obj.checkpointer is not None:
                raise UsageError(
                    f"{target} is compiled with its own checkpointer ({obj.checkpointer!r}); "
                    "drop --sqlite to use it"
                )
            obj.checkpointer = checkpointer
        return obj
    kind = type(obj)
    if kind.__module__.startswith("langgraph"):
        raise UsageError(
            f"{target} is a LangGraph graph; build it with graphpool "
            "(from graphpool import StateGraph, END) to run it here"
        )
    raise UsageError(f"{target} is a {kind.__name__}, not a StateGraph or a compiled graph")


def _read_input(text: str) -> Any:
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise UsageError(f"cannot read input file: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--input is not valid JSON: {exc}") from None


def _jsonable(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return repr(value)


def pool_kinds() -> dict[str, type[WorkerPool]]:
    """Every pool class graphpool has, by its ``kind``."""
    kinds: dict[str, type[WorkerPool]] = {}
    todo = list(WorkerPool.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        kind = getattr(cls, "kind", None)
        if isinstance(kind, str) and not cls.__name__.startswith("_"):
            kinds.setdefault(kind, cls)
    return kinds


def _run(args: argparse.Namespace) -> int:
    if args.timeline:
        from ._timeline import figure_class

        figure_class()  # no matplotlib: say so before the run, not after it
    saver = _saver(args)
    try:
        return _run_with(args, saver)
    finally:
        if saver is not None:
            saver.close()


def _saver(args: argparse.Namespace) -> Any:
    if args.resume is not None and args.thread_id is None:
        raise UsageError("--resume needs --thread: the thread whose interrupt it answers")
    if args.resume is not None and args.input is not None:
        raise UsageError("give --input or --resume, not both")
    if args.sqlite is None:
        return None
    from .checkpoint.sqlite import SqliteSaver

    return SqliteSaver(args.sqlite)


def _resume_value(text: str) -> Any:
    """``--resume``'s JSON value; text that is not JSON is taken as a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _run_with(args: argparse.Namespace, saver: Any) -> int:
    graph = load_target(args.target, scheduling=args.scheduling, checkpointer=saver)
    if args.resume is not None and graph.checkpointer is None:
        raise UsageError(
            f"--resume needs a checkpointer: {args.target} has none; add --sqlite FILE.db"
        )
    if args.resume is not None:
        from .types import Command

        data: Any = Command(resume=_resume_value(args.resume))
    else:
        data = _read_input(args.input or "{}")
    config: dict[str, Any] = {}
    if args.workers is not None:
        config["max_workers"] = args.workers
    if args.recursion_limit is not None:
        config["recursion_limit"] = args.recursion_limit
    if args.thread_id is not None:
        config["configurable"] = {"thread_id": args.thread_id}
    trace = Trace(args.trace) if args.trace or args.timeline else None
    if trace is not None:
        config["trace"] = trace
    progress = make_progress(sys.stderr, args.progress)
    if progress is not None:
        config["observer"] = progress
    pool = None
    if args.executor is not None:
        cls = pool_kinds()[args.executor]
        pool = cls(max_workers=args.workers) if args.workers else cls()  # type: ignore[call-arg]
        config["pool"] = pool
    try:
        if args.use_async:
            result = asyncio.run(graph.ainvoke(data, config))
        else:
            result = graph.invoke(data, config)
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
        if trace is not None and args.timeline and trace.attempts:
            trace.save_timeline(args.timeline, title=f"graphpool run {args.target}")
    if trace is not None:
        written = [p for p in (args.trace, args.timeline) if p]
        print(
            f"trace: {len(trace.attempts)} task attempts -> {', '.join(written)}", file=sys.stderr
        )
    if isinstance(result, dict) and result.get("__interrupt__"):
        print(_paused(args, result["__interrupt__"]), file=sys.stderr)
    print(json.dumps(result, default=_jsonable, ensure_ascii=False, indent=args.indent))
    return 0


def _paused(args: argparse.Namespace, interrupts: Any) -> str:
    values = ", ".join(json.dumps(i.value, default=_jsonable) for i in interrupts)
    where = ["--sqlite", args.sqlite] if args.sqlite else []
    command = ["graphpool", "run", args.target, *where, "--thread", args.thread_id or "?"]
    return f"paused at interrupt({values}); continue with: {' '.join(command)} --resume VALUE"


def _draw(args: argparse.Namespace) -> int:
    drawn = load_target(args.target).get_graph()
    text = drawn.draw_mermaid()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    if args.png:
        renderer = args.renderer
        if renderer == "auto":
            renderer = "mmdc" if shutil.which("mmdc") else "matplotlib"
        if renderer == "mmdc":
            drawn.draw_mermaid_png(output_file_path=args.png)
        else:
            drawn.draw_png(args.png)
        print(f"wrote {args.png} (rendered with {renderer})", file=sys.stderr)
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class _LogDefaults(logging.Filter):
    """Give every record the run/step/node attributes the format names."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in ("run_id", "step", "node"):
            if not hasattr(record, name):
                setattr(record, name, None)
        return True


def _logging_options(default: Any) -> argparse.ArgumentParser:
    """``--log-level``, accepted before and after the command (``graphpool run ... --log-level``).

    The command's copy defaults to SUPPRESS, so it leaves a value given before it alone.
    """
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        default=default,
        help="log the graphpool logger to stderr at this level (run id, step, node on each line)",
    )
    return options


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphpool",
        description="Run or draw a graphpool (LangGraph-style) graph.",
        parents=[_logging_options(None)],
    )
    parser.add_argument("--version", action="version", version=f"graphpool {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    logging_options = _logging_options(argparse.SUPPRESS)

    run = commands.add_parser(
        "run", help="run a graph and print its final state as JSON", parents=[logging_options]
    )
    run.add_argument("target", metavar="MODULE:ATTR")
    run.add_argument("--input", help="input as JSON, or @file.json (default {})")
    run.add_argument(
        "--workers", type=_positive, help="most tasks of the run at once (max_workers)"
    )
    run.add_argument(
        "--executor",
        choices=sorted(pool_kinds()),
        help="run on a fresh pool of this kind (default: the shared thread pool)",
    )
    run.add_argument(
        "--async", dest="use_async", action="store_true", help="drive the run with ainvoke"
    )
    run.add_argument("--recursion-limit", type=_positive, help="most supersteps (recursion_limit)")
    run.add_argument(
        "--thread",
        "--thread-id",
        dest="thread_id",
        metavar="ID",
        help="the thread to run in or resume (config['configurable']['thread_id'])",
    )
    run.add_argument(
        "--sqlite",
        metavar="FILE",
        help="save checkpoints in this SQLite file (a SqliteSaver), so --thread can resume",
    )
    run.add_argument(
        "--resume",
        metavar="VALUE",
        help="answer the thread's interrupt(): Command(resume=VALUE), VALUE as JSON "
        "(text that is not JSON is a string); needs --thread",
    )
    run.add_argument(
        "--scheduling",
        choices=["superstep", "eager"],
        help="how to compile a StateGraph builder (default superstep)",
    )
    run.add_argument("--trace", metavar="PATH", help="write a Chrome trace-event JSON file")
    run.add_argument("--timeline", metavar="PNG", help="draw a Gantt chart (graphpool[plot])")
    run.add_argument(
        "--progress",
        choices=["auto", "live", "plain", "none"],
        default="auto",
        help="progress on stderr: live table on a terminal, plain lines otherwise (auto)",
    )
    run.add_argument("--indent", type=int, help="pretty-print the JSON result")
    run.set_defaults(handler=_run)

    draw = commands.add_parser(
        "draw", help="print a graph's Mermaid text (as LangGraph's)", parents=[logging_options]
    )
    draw.add_argument("target", metavar="MODULE:ATTR")
    draw.add_argument("-o", "--output", help="write the Mermaid text here instead of stdout")
    draw.add_argument("--png", help="also draw a PNG picture here")
    draw.add_argument(
        "--renderer",
        choices=["auto", "mmdc", "matplotlib"],
        default="auto",
        help="PNG renderer: mermaid-cli if on PATH, else matplotlib (auto)",
    )
    draw.set_defaults(handler=_draw)

    from .server._command import add_serve_command

    add_serve_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``graphpool`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.log_level:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(_LogDefaults())
        log = logging.getLogger("graphpool")
        log.addHandler(handler)
        log.setLevel(args.log_level)
    try:
        status: int = args.handler(args)
    except UsageError as exc:
        parser.exit(2, f"graphpool: error: {exc}\n")
    except ImportError as exc:
        parser.exit(2, f"graphpool: error: {exc}\n")
    return status
