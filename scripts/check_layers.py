#!/usr/bin/env python3
"""Check the import layering of the project: floors, and circles inside each package.

The services stay small and testable only while dependencies point one way: a package may use what
lies below it, never what lies beside or above it. Reviews miss a stray import inside a function, so
CI reads every ``import`` and ``from ... import`` of every file (at module level, inside functions,
under ``if TYPE_CHECKING:``, and ``importlib.import_module("...")`` with a literal name) and reports:

* ``file:line: <package> (floor n) imports <package> (floor m)`` for each import that does not go
  downward (or to an allowed neighbour, see ``SIDEWAYS``);
* every import circle among the modules of one package (imports that run when a module is loaded;
  ``TYPE_CHECKING``-only and function-local imports cannot form one and are left out);
* a package found in the tree that has no floor yet, so a new package is placed before it is used.

Usage: ``python scripts/check_layers.py [--type-checking-circles] [ROOT]`` (ROOT defaults to the
repository). Exit status 1 if anything was reported, 0 otherwise.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

# The floors of DESIGN.md, section "Layout and direction of dependencies", table "Floors": the one
# place this script keeps them. A package imports only from floors below its own (and from itself).
FLOORS: dict[str, int] = {
    "common": 0,  # the root error, hex and time helpers; imports nothing of the project
    "documents": 1,  # pure document format
    "storage": 1,
    "chain": 1,
    "network": 1,  # the Besu QBFT network generator: common and third-party libraries only
    "httpkit": 2,  # the HTTP kit both services share
    "chainindex": 2,  # the local SQLite projection of the registries' events
    "verification": 3,  # document -> verdict, for the verifier service and the CLI alike
    "issuer": 4,  # the three applications never import each other
    "registry_api": 4,
    "verifier": 4,
    "scripts": 5,
    "devstack": 5,
    "tests": 5,
}

# The only imports allowed between packages of the same floor (importer -> packages it may use).
# DESIGN.md lets chain use documents' types. The top floor is ordered devstack < tests < scripts: the
# local-stack helpers serve the tests and the scripts, and a script may reuse the tests' harness (the
# chaos run drives the relay as its tests do); devstack imports neither, the tests no script.
SIDEWAYS: dict[str, frozenset[str]] = {
    "chain": frozenset({"documents"}),
    "tests": frozenset({"devstack"}),
    "scripts": frozenset({"devstack", "tests"}),
}

# Directories never read: tool caches, virtual environments, Node packages.
SKIP_DIRS = frozenset({"__pycache__", "node_modules", "build", "dist"})


@dataclass(frozen=True)
class Module:
    """One Python file of the tree, named as Python would import it (``verifier.api.app``)."""

    name: str
    package: str  # the top-level directory it lies in
    path: Path  # relative to the root
    is_package: bool  # an ``__init__.py``


@dataclass(frozen=True)
class Import:
    """One import statement's target, where it sits and whether it runs when the module loads."""

    line: int
    target: str  # a dotted name as written, made absolute for relative imports
    names: tuple[str, ...]  # the names of a ``from`` import (which may be submodules)
    at_load: bool  # module level and not under TYPE_CHECKING: part of the load-time graph
    module_level: bool  # outside any function (under TYPE_CHECKING or not)


@dataclass(frozen=True)
class Edge:
    """A load-time import of one module by another module of the same package."""

    source: str
    target: str
    path: Path
    line: int


def _is_type_checking(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:``."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


class _ImportCollector(ast.NodeVisitor):
    """Collects every import of one file, noting which ones run when the module is loaded."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.imports: list[Import] = []
        self._depth_function = 0
        self._depth_type_checking = 0

    @property
    def _at_load(self) -> bool:
        return self._depth_function == 0 and self._depth_type_checking == 0

    def _record(self, line: int, target: str, names: tuple[str, ...] = (), *, dynamic: bool = False) -> None:
        at_load = self._at_load and not dynamic
        self.imports.append(Import(line, target, names, at_load, self._depth_function == 0 and not dynamic))

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        # Decorators and defaults run at load; the body runs when called.
        if not isinstance(node, ast.Lambda):
            for decorator in node.decorator_list:
                self.visit(decorator)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        self._depth_function += 1
        body = [node.body] if isinstance(node, ast.Lambda) else node.body
        for statement in body:
            self.visit(statement)
        self._depth_function -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._visit_function(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_function(node)

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self._depth_type_checking += 1
        for statement in node.body:
            self.visit(statement)
        self._depth_type_checking -= 1
        for statement in node.orelse:  # the ``else`` of TYPE_CHECKING is what runs
            self.visit(statement)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._record(node.lineno, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        target = self._absolute(node.level, node.module)
        if target is not None:
            names = tuple(alias.name for alias in node.names if alias.name != "*")
            self._record(node.lineno, target, names)

    def visit_Call(self, node: ast.Call) -> None:
        # importlib.import_module("pkg.mod") and __import__("pkg"): still a dependency.
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in {"import_module", "__import__"} and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and not first.value.startswith("."):
                self._record(node.lineno, first.value, dynamic=True)
        self.generic_visit(node)

    def _absolute(self, level: int, module: str | None) -> str | None:
        """The absolute dotted name of ``from <level dots><module> import ...``."""
        if level == 0:
            return module
        parts = self.module.name.split(".")
        if not self.module.is_package:
            parts = parts[:-1]
        if level - 1 > len(parts) - 1:
            return None  # beyond the top-level package: Python refuses it too
        base = parts[: len(parts) - (level - 1)]
        return ".".join([*base, module] if module else base)


class Tree:
    """The project's modules under one root, and the imports between them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: dict[str, Module] = {}
        self.unplaced: list[Module] = []  # the ``__init__.py`` of packages missing from FLOORS
        for top in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if top.name in FLOORS:
                for path in self._python_files(top):
                    module = self._module(path)
                    self.modules[module.name] = module
            elif (top / "__init__.py").is_file():
                self.unplaced.append(self._module(top / "__init__.py"))

    def _python_files(self, top: Path) -> Iterator[Path]:
        for path in sorted(top.rglob("*.py")):
            relative = path.relative_to(self.root)
            if not any(part in SKIP_DIRS or part.startswith(".") for part in relative.parts[:-1]):
                yield path

    def _module(self, path: Path) -> Module:
        relative = path.relative_to(self.root)
        parts = list(relative.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        return Module(".".join(parts), parts[0], relative, is_package)

    def resolve(self, importer: Module, dotted: str) -> str | None:
        """The project module a dotted name refers to (its longest known prefix), or None if foreign.

        A folder of scripts without ``__init__.py`` imports its sibling files by their bare names;
        the project's packages come first, as the scripts put the repository first on ``sys.path``.
        """
        parts = dotted.split(".")
        if parts[0] in FLOORS:
            for end in range(len(parts), 0, -1):
                name = ".".join(parts[:end])
                if name in self.modules:
                    return name
            return parts[0]  # a project package whose file is absent: the floor still applies
        folder = importer.path.parent
        if importer.is_package or (self.root / folder / "__init__.py").is_file():
            return None
        sibling = [*folder.parts, *parts]
        if ".".join(sibling[: len(folder.parts) + 1]) not in self.modules:
            return None  # not a file beside the script: a library
        for end in range(len(sibling), len(folder.parts), -1):
            name = ".".join(sibling[:end])
            if name in self.modules:
                return name
        return None

    def imports(self, module: Module) -> tuple[list[tuple[Import, str]], list[str]]:
        """Each import of a module with the project module it reaches; and any read errors."""
        try:
            source = (self.root / module.path).read_text(encoding="utf-8")
            tree = ast.parse(source, filename=str(module.path))
        except (SyntaxError, UnicodeDecodeError, OSError) as exc:
            return [], [f"{module.path.as_posix()}:1: cannot read: {type(exc).__name__}"]
        collector = _ImportCollector(module)
        collector.visit(tree)
        found: list[tuple[Import, str]] = []
        for imported in collector.imports:
            targets = [f"{imported.target}.{name}" for name in imported.names] or [imported.target]
            for dotted in targets:
                target = self.resolve(module, dotted)
                if target is None and imported.names:
                    target = self.resolve(module, imported.target)
                if target is not None:
                    found.append((imported, target))
        return found, []


def floor_violation(module: Module, target_package: str) -> str | None:
    """Why an import from ``module``'s package into ``target_package`` breaks the floors, if it does."""
    source_package = module.package
    if target_package == source_package or target_package not in FLOORS:
        return None
    source_floor, target_floor = FLOORS[source_package], FLOORS[target_package]
    if target_floor < source_floor or target_package in SIDEWAYS.get(source_package, frozenset()):
        return None
    return f"{source_package} (floor {source_floor}) imports {target_package} (floor {target_floor})"


def route_violation(module: Module, target: str) -> str | None:
    """A route importing another route: what routes share lives beside them (``api/common.py``,
    ``deps.py``), so that no route's change reaches into another's module."""
    folder, _, _name = module.name.rpartition(".")
    if not folder.endswith(".routes") or module.is_package:
        return None
    if target.startswith(folder + ".") and target != module.name:
        return f"a route ({module.name}) imports another route ({target})"
    return None


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]


def load_edges(tree: Tree, module: Module, imports: list[tuple[Import, str]], *, type_checking: bool) -> list[Edge]:
    """The load-time imports of a module within its own package (and its TYPE_CHECKING ones if asked).

    Importing ``pkg.a.b`` first runs ``pkg/a/__init__.py``, so an edge goes to each package on the
    way that the importer is not itself inside (those are already being loaded).
    """
    own = set(_ancestors(module.name)) | {module.name}
    edges: list[Edge] = []
    for imported, target in imports:
        counted = imported.at_load or (type_checking and imported.module_level)
        if not counted or target.split(".")[0] != module.package:
            continue
        for name in [*_ancestors(target), target]:
            if name not in own and name in tree.modules:
                edges.append(Edge(module.name, name, module.path, imported.line))
    return edges


def _strongly_connected(nodes: Sequence[str], graph: dict[str, list[Edge]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative so a deep package cannot exhaust the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = graph.get(node, [])
            if position < len(successors):
                work.append((node, position + 1))
                successor = successors[position].target
                if successor not in index:
                    work.append((successor, 0))
                elif successor in on_stack:
                    low[node] = min(low[node], index[successor])
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def _shortest_cycle(start: str, members: set[str], graph: dict[str, list[Edge]]) -> list[Edge]:
    """One shortest circle through ``start`` inside a strongly connected component."""
    came_by: dict[str, Edge] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        for edge in graph.get(node, []):
            if edge.target == start:
                path = [edge]
                while path[0].source != start:
                    path.insert(0, came_by[path[0].source])
                return path
            if edge.target in members and edge.target not in seen:
                seen.add(edge.target)
                came_by[edge.target] = edge
                queue.append(edge.target)
    return []  # unreachable for a component of two or more members


def circles(edges: list[Edge]) -> list[str]:
    """A report for each import circle (strongly connected component of two or more modules)."""
    graph: dict[str, list[Edge]] = {}
    for edge in edges:
        if edge.source != edge.target and all(e.target != edge.target for e in graph.get(edge.source, [])):
            graph.setdefault(edge.source, []).append(edge)
    nodes = sorted({edge.source for edge in edges} | {edge.target for edge in edges})
    reports: list[str] = []
    for component in _strongly_connected(nodes, graph):
        if len(component) < 2:
            continue
        cycle = _shortest_cycle(component[0], set(component), graph)
        package = component[0].split(".")[0]
        chain = " -> ".join([*(edge.source for edge in cycle), cycle[0].source])
        lines = [f"import circle in {package} ({len(component)} modules: {', '.join(component)}): {chain}"]
        lines += [f"  {edge.path.as_posix()}:{edge.line}: {edge.source} imports {edge.target}" for edge in cycle]
        reports.append("\n".join(lines))
    return reports


def check(root: Path, *, type_checking_circles: bool = False) -> list[str]:
    """Every problem found under ``root``, as lines to print (empty when the layering holds).

    ``type_checking_circles`` also counts module-level ``if TYPE_CHECKING:`` imports in the circle
    check: they cannot fail at load time, but they still tie the modules' designs together.
    """
    tree = Tree(root)
    problems = [
        f"{module.path.as_posix()}:1: package {module.package} has no floor (add it to FLOORS in check_layers.py)"
        for module in tree.unplaced
    ]
    edges: list[Edge] = []
    for module in tree.modules.values():
        imports, errors = tree.imports(module)
        problems += errors
        seen: set[tuple[int, str]] = set()
        for imported, target in imports:
            package = target.split(".")[0]
            violation = floor_violation(module, package)
            if violation is not None and (imported.line, package) not in seen:
                seen.add((imported.line, package))
                problems.append(f"{module.path.as_posix()}:{imported.line}: {violation}")
            sideways = route_violation(module, target)
            if sideways is not None and (imported.line, target) not in seen:
                seen.add((imported.line, target))
                problems.append(f"{module.path.as_posix()}:{imported.line}: {sideways}")
        edges += load_edges(tree, module, imports, type_checking=type_checking_circles)
    return problems + circles(edges)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the project's import floors and import circles.")
    parser.add_argument("root", nargs="?", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument(
        "--type-checking-circles",
        action="store_true",
        help="count module-level TYPE_CHECKING imports in the circle check too",
    )
    args = parser.parse_args(argv)
    problems = check(args.root.resolve(), type_checking_circles=args.type_checking_circles)
    for problem in problems:
        print(problem)
    if problems:
        print(f"import layering: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
