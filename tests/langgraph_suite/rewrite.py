"""Source half of the harness: rewrites one fetched LangGraph test module.

Three jobs, all on the module's syntax tree (``ast``), none by text substitution:

* **Imports, per name.** ``from langgraph.M import a as b`` becomes
  ``b = _lgshim.name("langgraph.M", "a")`` when ``langgraph.M.a`` is public API
  (:func:`is_public`). The shim resolves the name for the target library at run time.
  An internal name keeps its real import: it always comes from LangGraph, and every
  test that reaches it is not applicable (below).
* **Not applicable, per test.** A test is not applicable when its body, or a
  module-level helper it uses (followed transitively), names an internal LangGraph
  import or a helper module's name that does. Annotations of function parameters and
  of local variables are ignored: Python stores them, nothing runs them.
* **Guarded module level.** Each module-level statement runs inside ``try``. If it
  raises (say a class built on a name graphpool lacks), the names it binds, or the
  object it mutates, become placeholders that raise that error when a test uses
  them, and a failing ``test_*`` function stands in for a test whose definition
  raised. One missing name fails only the tests that use it, never the file.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

SHIM = "_lgshim"

# Public LangGraph modules: "*" means every name without a leading underscore,
# otherwise the public names. Every other langgraph module (pregel, channels,
# _internal, checkpoint.serde, ...) is internal.
_ALL = "*"
PUBLIC_NAMES: dict[str, str | frozenset[str]] = {
    "langgraph.graph": _ALL,
    "langgraph.graph.state": frozenset({"StateGraph", "CompiledStateGraph"}),
    "langgraph.graph.message": _ALL,
    "langgraph.types": _ALL,
    "langgraph.errors": _ALL,
    "langgraph.constants": frozenset(
        {"START", "END", "TAG_HIDDEN", "TAG_NOSTREAM", "PREVIOUS", "Send", "Interrupt"}
    ),
    "langgraph.func": _ALL,
    "langgraph.runtime": _ALL,
    "langgraph.config": _ALL,
    "langgraph.managed": _ALL,
    "langgraph.warnings": _ALL,
    "langgraph.callbacks": _ALL,
    "langgraph.store.base": _ALL,
    "langgraph.store.memory": _ALL,
    "langgraph.store.sqlite": _ALL,
    "langgraph.store.postgres": _ALL,
    "langgraph.cache.base": _ALL,
    "langgraph.cache.memory": _ALL,
    "langgraph.cache.sqlite": _ALL,
    "langgraph.checkpoint.base": frozenset({"BaseCheckpointSaver"}),
    "langgraph.checkpoint.memory": frozenset({"InMemorySaver", "MemorySaver"}),
    "langgraph.checkpoint.sqlite": frozenset({"SqliteSaver"}),
    "langgraph.checkpoint.sqlite.aio": frozenset({"AsyncSqliteSaver"}),
    "langgraph.checkpoint.postgres": frozenset({"PostgresSaver"}),
    "langgraph.checkpoint.postgres.aio": frozenset({"AsyncPostgresSaver"}),
    "langgraph.prebuilt": _ALL,
    "langgraph.prebuilt.tool_node": _ALL,
    "langgraph.prebuilt.chat_agent_executor": _ALL,
    "langgraph.prebuilt.interrupt": _ALL,
    "langgraph.prebuilt.tool_validator": _ALL,
}
# Exported by a public module, but LangGraph's engine, not its API.
INTERNAL_NAMES = frozenset({"langgraph.types.PregelExecutableTask"})
# A string literal with this prefix is one of LangGraph's internal config keys or
# task-path markers spelled out ("__pregel_runtime", "__pregel_pull"): it counts as
# an internal name, like the constant it spells.
INTERNAL_LITERAL_PREFIX = "__pregel_"


def is_public(module: str, name: str) -> bool:
    """Whether ``module.name`` is LangGraph public API (see :data:`PUBLIC_NAMES`)."""
    names = PUBLIC_NAMES.get(module)
    if names is None or name.startswith("_") or f"{module}.{name}" in INTERNAL_NAMES:
        return False
    return names == _ALL or name in names


@dataclass
class Rewritten:
    """One rewritten module: its new source, and what in it is not applicable."""

    source: str
    not_applicable: dict[str, str] = field(default_factory=dict)  # "test_x" / "TestC::test_x"
    features: dict[str, list[str]] = field(default_factory=dict)  # test -> what it does
    tainted: dict[str, str] = field(default_factory=dict)  # module-level name -> why internal


def _is_langgraph(module: str | None) -> bool:
    return module is not None and (module == "langgraph" or module.startswith("langgraph."))


def _absolute(node: ast.ImportFrom, package: str, renames: dict[str, str]) -> str:
    """The absolute module an ImportFrom names (relative imports resolved in ``package``)."""
    module = node.module or ""
    if node.level:
        base = package.split(".")
        base = base[: len(base) - node.level + 1]
        module = ".".join([*base, module]) if module else ".".join(base)
    top, _, rest = module.partition(".")
    if top in renames:
        module = renames[top] + ("." + rest if rest else "")
    return module


class _Imports(ast.NodeTransformer):
    """Rewrites public LangGraph imports to shim calls; records internal and helper names."""

    def __init__(self, package: str, renames: dict[str, str], helpers: dict[str, dict[str, str]]):
        self.package = package
        self.renames = renames
        self.helpers = helpers  # helper module -> {name: why tainted}
        self.internal: dict[str, str] = {}  # module-level binding -> "langgraph.x.Name"

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST | list[ast.stmt]:
        if node.module == "__future__":
            return node
        module = _absolute(node, self.package, self.renames)
        if not _is_langgraph(module):
            for alias in node.names:
                why = self.helpers.get(module, {}).get(alias.name)
                if why:
                    self.internal[alias.asname or alias.name] = f"{module}.{alias.name} -> {why}"
            if node.level == 0 and module != node.module:
                node.module = module
            return node
        out: list[ast.stmt] = []
        kept = []
        for alias in node.names:
            local = alias.asname or alias.name
            if alias.name != "*" and is_public(module, alias.name):
                call = ast.parse(f"{local} = {SHIM}.name({module!r}, {alias.name!r})").body[0]
                out.append(ast.copy_location(call, node))
            else:
                kept.append(alias)
                self.internal[local] = f"{module}.{alias.name}"
        if kept:
            out.insert(0, ast.copy_location(ast.ImportFrom(module, kept, 0), node))
        return out

    def visit_Import(self, node: ast.Import) -> ast.AST | list[ast.stmt]:
        out: list[ast.stmt] = []
        kept = []
        for alias in node.names:
            if _is_langgraph(alias.name) and alias.asname and alias.name in PUBLIC_NAMES:
                stmt = ast.parse(f"{alias.asname} = {SHIM}.module({alias.name!r})").body[0]
                out.append(ast.copy_location(stmt, node))
                continue
            kept.append(alias)
            if _is_langgraph(alias.name):
                self.internal[alias.asname or alias.name.partition(".")[0]] = alias.name
        if kept:
            out.insert(0, ast.copy_location(ast.Import(kept), node))
        return out


class _Refs(ast.NodeVisitor):
    """Names a piece of code reads and binds, ignoring what annotations mention."""

    def __init__(self) -> None:
        self.loads: set[str] = set()
        self.stores: set[str] = set()
        self.literals: set[str] = set()  # internal string literals it contains
        self.depth = 0  # >0 inside a function: annotations there are never evaluated

    def visit_Name(self, node: ast.Name) -> None:
        (self.loads if isinstance(node.ctx, ast.Load) else self.stores).add(node.id)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and node.value.startswith(INTERNAL_LITERAL_PREFIX):
            self.literals.add(node.value)

    def literal(self) -> str | None:
        """The first internal literal, as a reason."""
        first = min(self.literals, default=None)
        return f"the literal {first!r} (a LangGraph internal key)" if first else None

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        if not isinstance(node, ast.Lambda):
            self.stores.add(node.name)
            for dec in node.decorator_list:
                self.visit(dec)
        args = node.args
        for default in [*args.defaults, *args.kw_defaults]:
            if default is not None:
                self.visit(default)
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None:
                self.stores.add(arg.arg)
        self.depth += 1
        for stmt in node.body if isinstance(node.body, list) else [node.body]:
            self.visit(stmt)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.visit(node.target)
        if node.value is not None:
            self.visit(node.value)
        if self.depth == 0:  # a class body's annotations are its fields
            self.visit(node.annotation)

    def visit_alias(self, node: ast.alias) -> None:
        self.stores.add(node.asname or node.name.partition(".")[0])

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.stores.add(node.name)
        self.generic_visit(node)


def _refs(node: ast.AST) -> _Refs:
    refs = _Refs()
    refs.visit(node)
    return refs


def _binds(stmt: ast.stmt) -> set[str]:
    """Module-level names a statement binds, plus the object it mutates (``b.add_node(..)``)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    names = set(_refs(stmt).stores) if not isinstance(stmt, ast.Expr) else set()
    targets = [stmt.value] if isinstance(stmt, ast.Expr) else []
    if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets += stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    for target in targets:
        while isinstance(target, (ast.Call, ast.Attribute, ast.Subscript)):
            target = target.func if isinstance(target, ast.Call) else target.value
        if isinstance(target, ast.Name) and target is not stmt:
            names.add(target.id)
    return names


def _nested_internal(node: ast.AST, package: str, renames: dict[str, str]) -> str | None:
    """An internal LangGraph import inside a function body, if any."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.ImportFrom) and sub.module != "__future__":
            module = _absolute(sub, package, renames)
            if _is_langgraph(module):
                for alias in sub.names:
                    if not is_public(module, alias.name):
                        return f"{module}.{alias.name}"
        elif isinstance(sub, ast.Import):
            for alias in sub.names:
                if _is_langgraph(alias.name) and alias.name not in PUBLIC_NAMES:
                    return alias.name
    return None


class _Taint:
    """Which module-level names lead, through the module's own helpers, to an internal."""

    def __init__(self, internal: dict[str, str]):
        self.internal = internal
        self.deps: dict[str, set[str]] = {}
        self.direct: dict[str, str] = {}
        self.memo: dict[str, str | None] = {}

    def add(self, names: set[str], loads: set[str], direct: str | None) -> None:
        for name in names:
            self.deps.setdefault(name, set()).update(loads - {name})
            if direct:
                self.direct.setdefault(name, direct)

    def why(self, name: str, seen: frozenset[str] = frozenset()) -> str | None:
        """The internal ``name`` leads to, as a path (``helper -> langgraph.x.Y``), or None."""
        if name in self.internal:
            return self.internal[name]
        if name in self.memo or name in seen:
            return self.memo.get(name)
        found = self.direct.get(name)
        for dep in sorted(self.deps.get(name, ())) if not found else ():
            sub = self.why(dep, seen | {name})
            if sub:
                found = sub if dep in self.internal else f"{dep} -> {sub}"
                break
        if found or not seen:  # a None found inside a cycle may be incomplete
            self.memo[name] = found
        return found

    def first(self, names: set[str]) -> str | None:
        """The first of ``names`` that leads to an internal, with its path."""
        for name in sorted(names):
            why = self.why(name)
            if why:
                return why if name in self.internal else f"{name} -> {why}"
        return None


def _guard(stmt: ast.stmt, names: set[str], is_test: bool) -> ast.stmt:
    """``try: stmt`` whose ``except`` turns the bound names into failing placeholders."""
    helper = "broken_test" if is_test else "broken"
    handler = ast.parse(
        f"try:\n    pass\nexcept Exception as _lgsuite_exc:\n"
        f"    {SHIM}.{helper}(globals(), {sorted(names)!r}, _lgsuite_exc, {stmt.lineno})"
    ).body[0]
    assert isinstance(handler, ast.Try)
    handler.body = [stmt]
    return ast.copy_location(handler, stmt)


def _is_test_name(name: str) -> bool:
    return name.startswith("test")


_RUN_METHODS = frozenset({"invoke", "ainvoke", "stream", "astream", "batch", "abatch"})


def features(node: ast.AST) -> list[str]:
    """What a test does that graphpool is known to treat differently, read from its calls.

    Used only to label failures whose message says nothing (a bare ``assert``).
    """
    found: set[str] = set()
    for call in ast.walk(node):
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
            continue
        method = call.func.attr
        keywords = {k.arg for k in call.keywords}
        if method in ("stream", "astream") and "stream_mode" not in keywords and call.args:
            found.add("stream without stream_mode")
        if method in _RUN_METHODS:
            for keyword in (
                "subgraphs",
                "interrupt_before",
                "interrupt_after",
                "durability",
                "debug",
                "context",
                "version",
            ):
                if keyword in keywords:
                    found.add(f"{method}({keyword}=...)")
    return sorted(found)


def _is_autouse(stmt: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any("autouse" in ast.unparse(dec) for dec in stmt.decorator_list)


def _head(body: list[ast.stmt]) -> int:
    """How many leading statements (docstring, ``__future__`` imports) must stay first."""
    head = 0
    for stmt in body:
        docstring = (
            head == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
        )
        future = isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"
        if not (docstring or future):
            break
        head += 1
    return head


_Def = (ast.FunctionDef, ast.AsyncFunctionDef)


def _tests(body: list[ast.stmt]) -> list[tuple[str, ast.AST, set[str]]]:
    """Each test in a module: its key, its node, and the fixture code it pulls in."""
    tests: list[tuple[str, ast.AST, set[str]]] = []
    for stmt in body:
        if isinstance(stmt, _Def) and _is_test_name(stmt.name):
            tests.append((stmt.name, stmt, {a.arg for a in stmt.args.args}))
        elif isinstance(stmt, ast.ClassDef) and stmt.name.startswith("Test"):
            members = {m.name: m for m in stmt.body if isinstance(m, _Def)}
            for name, member in members.items():
                if _is_test_name(name):
                    fixtures = [members[a.arg] for a in member.args.args if a.arg in members]
                    pulled = set().union(*(_refs(f).loads for f in fixtures))
                    args = {a.arg for a in member.args.args}
                    tests.append((f"{stmt.name}::{name}", member, pulled | args))
    return tests


def rewrite(
    source: str,
    *,
    package: str,
    renames: dict[str, str] | None = None,
    helpers: dict[str, dict[str, str]] | None = None,
) -> Rewritten:
    """Rewrite one module of a fetched test package (``package`` is its own package name).

    ``renames`` maps a top-level package to its new name (the prebuilt tests' ``tests``
    becomes ``tests_prebuilt``); ``helpers`` gives, per helper module already rewritten,
    its tainted names.
    """
    renames = renames or {}
    imports = _Imports(package, renames, helpers or {})
    tree = imports.visit(ast.parse(source))
    taint = _Taint(imports.internal)
    head = _head(tree.body)
    body = tree.body[head:]
    autouse: str | None = None
    for stmt in body:
        refs, binds = _refs(stmt), _binds(stmt)
        loads = refs.loads
        if isinstance(stmt, (*_Def, ast.ClassDef)):  # names it binds inside are its own
            loads = refs.loads - (refs.stores - binds)
        taint.add(binds, loads, _nested_internal(stmt, package, renames) or refs.literal())
        if isinstance(stmt, _Def) and not _is_test_name(stmt.name) and _is_autouse(stmt):
            autouse = autouse or taint.why(stmt.name)
    result = Rewritten(source="")
    for key, node, pulled in _tests(body):
        refs = _refs(node)
        own = key.rpartition("::")[2]
        loads = (refs.loads - (refs.stores - {own})) | pulled
        why = _nested_internal(node, package, renames) or refs.literal()
        why = why or taint.first(loads) or autouse
        if why:
            result.not_applicable[key] = why
        elif found := features(node):
            result.features[key] = found
    result.tainted = {name: why for name in taint.deps if (why := taint.why(name))}
    for name, why in imports.internal.items():
        result.tainted.setdefault(name, why)
    guarded = [
        _guard(stmt, _binds(stmt), isinstance(stmt, _Def) and _is_test_name(stmt.name))
        for stmt in body
    ]
    tree.body = [*tree.body[:head], *ast.parse(f"import {SHIM}").body, *guarded]
    result.source = ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    return result
