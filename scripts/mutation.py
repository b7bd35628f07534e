"""Mutation testing of the domain core: a small AST mutator (not run in CI; see docs/testing.md).

    .venv/bin/python scripts/mutation.py                      # credit, money, pricing, orders
    .venv/bin/python scripts/mutation.py money pricing -j 1   # some modules, one process
    .venv/bin/python scripts/mutation.py --list orders        # print the mutants, run nothing

For each mutant of a module (comparison operators swapped or negated, `and`/`or`, `not` dropped, arithmetic
operators swapped, integer constants ±1, True↔False, a returned value replaced by None, a `raise`, an
assignment or a call statement removed, one member dropped from a set/tuple literal, an attrs default or a
default argument changed), the mutated module is written into a temporary copy of `src/` and `tests/` (the
working tree is never touched) and the module's selected unit tests run in a pytest subprocess with `-x`, a
timeout, and hypothesis capped at a few derandomised examples. Mutants run `-j` at a time (2 at most by
default: the machine is shared). A survivor is printed with file:line and the mutation; those judged
equivalent are listed with a one-line reason in scripts/mutation-equivalent.txt and counted, not reported.
The exit status is 0 whatever survives: this is a report, not a gate.

Each mutant's pytest is a child forked from a server that has imported pytest, hypothesis and the other
third-party modules once (multiprocessing's forkserver), killed at the timeout. The module is also the pytest
plugin those children load (`-p mutation`): it caps every hypothesis
test's examples at CRM_MUTATION_MAX_EXAMPLES and derandomises them.
"""

from __future__ import annotations

import argparse
import ast
import copy
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from queue import Queue
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent
EQUIVALENT_FILE = SCRIPTS / "mutation-equivalent.txt"
SEPARATOR = " :: "

#: The unit tests that guard each module (run with -x; the first failure kills the mutant).
MODULE_TESTS: dict[str, list[str]] = {
    "money": ["test_money.py", "test_properties_money.py", "test_pricing.py", "test_money_parsing.py"],
    "pricing": ["test_pricing.py", "test_orders.py"],
    "credit": [
        "test_credit_check.py",
        "test_credit_terms.py",
        "test_credit_running_totals.py",
        "test_limit_requests.py",
        "test_credit_account.py",
        "test_hold_reevaluation.py",
        "test_properties_credit.py",
        "test_credit_governance.py",
        "test_erp_events.py",
    ],
    "orders": [
        "test_orders.py",
        "test_release_and_reject.py",
        "test_order_entity.py",
        "test_erp_sync.py",
        "test_performance.py",
        "test_delivery.py",
        "test_hold_reevaluation.py",
    ],
}
DEFAULT_MODULES = ["credit", "money", "pricing", "orders"]


# --- mutants ------------------------------------------------------------------------------------------------

COMPARE_SWAPS: dict[type[ast.cmpop], list[type[ast.cmpop]]] = {
    ast.Lt: [ast.LtE, ast.GtE],
    ast.LtE: [ast.Lt, ast.Gt],
    ast.Gt: [ast.GtE, ast.LtE],
    ast.GtE: [ast.Gt, ast.Lt],
    ast.Eq: [ast.NotEq],
    ast.NotEq: [ast.Eq],
    ast.Is: [ast.IsNot],
    ast.IsNot: [ast.Is],
    ast.In: [ast.NotIn],
    ast.NotIn: [ast.In],
}
BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
}


@dataclass(frozen=True)
class Mutant:
    module: str  # e.g. "credit"
    path: str  # e.g. "crm_domain/credit.py"
    index: int
    line: int
    description: str
    source: str  # the whole mutated module


@dataclass(frozen=True)
class NamedMutant:
    """A mutant with the text of the line it changes (what the allow-list names it by)."""

    mutant: Mutant
    line_text: str

    @property
    def key(self) -> str:
        """`path :: original line text :: mutation`, as in scripts/mutation-equivalent.txt."""
        return SEPARATOR.join([self.mutant.path, self.line_text, self.mutant.description])


def _code(node: ast.AST) -> str:
    text = ast.unparse(node).replace("\n", " ")
    return text if len(text) <= 70 else text[:67] + "..."


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _is_attrs_field(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and _code(node.func) in {"attrs.field", "field"}


class _Mutator(ast.NodeTransformer):
    """Walks a module; the `target`-th mutation point is changed (target -1: count and describe them all)."""

    def __init__(self, target: int = -1) -> None:
        self.target = target
        self.count = 0
        self.points: list[tuple[int, str]] = []  # (line, description) per mutation point
        self.applied: tuple[int, str] | None = None
        self._function_depth = 0
        self._class_depth = 0

    def _offer(self, node: ast.AST, description: str, make: Callable[[], Any]) -> Any:
        """One mutation point: returns the mutated node when it is the target, else None."""
        index = self.count
        self.count += 1
        line = getattr(node, "lineno", 0)
        self.points.append((line, description))
        if index == self.target:
            self.applied = (line, description)
            return make()
        return None

    # --- scopes (module-level code is left alone except literals in tables and class bodies) -----------------

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        # Default arguments are mutated (e.g. `by_release: bool = False`); decorators are kept as they are.
        node.args.defaults = [self.visit(default) for default in node.args.defaults]
        node.args.kw_defaults = [None if d is None else self.visit(d) for d in node.args.kw_defaults]
        self._function_depth += 1
        node.body = self._visit_body(node.body)
        self._function_depth -= 1
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]  # noqa: N815 - NodeTransformer's name

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self._class_depth += 1
        node.body = self._visit_body(node.body)
        self._class_depth -= 1
        return node

    def visit_Module(self, node: ast.Module) -> Any:
        node.body = self._visit_body(node.body)
        return node

    def _visit_body(self, body: list[ast.stmt]) -> list[ast.stmt]:
        result: list[ast.stmt] = []
        for statement in body:
            replaced = self._remove_statement(statement) if self._function_depth else None
            if replaced is not None:
                result.append(replaced)
                continue
            new = self.visit(statement)
            result.append(new if new is not None else statement)
        return result

    def _remove_statement(self, statement: ast.stmt) -> ast.stmt | None:
        if _is_docstring(statement):
            return None
        if isinstance(statement, ast.Raise | ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Expr):
            if isinstance(statement, ast.AnnAssign) and statement.value is None:
                return None
            removed: ast.stmt | None = self._offer(
                statement, f"removed `{_code(statement)}`", lambda: ast.copy_location(ast.Pass(), statement)
            )
            return removed
        return None

    def generic_visit(self, node: ast.AST) -> ast.AST:
        """As NodeTransformer's, but nested statement lists (if/for/with/try bodies) go through `_visit_body`."""
        for field, old in ast.iter_fields(node):
            if isinstance(old, list) and old and isinstance(old[0], ast.stmt):
                setattr(node, field, self._visit_body(old))
            elif isinstance(old, list):
                old[:] = [
                    new for new in (self.visit(v) if isinstance(v, ast.AST) else v for v in old) if new is not None
                ]
            elif isinstance(old, ast.AST):
                setattr(node, field, self.visit(old))
        return node

    # --- statements ---------------------------------------------------------------------------------------

    def visit_If(self, node: ast.If) -> Any:
        # A plain truth test (`if self.blocked:`) is negated; comparisons and `not` have their own mutants.
        if not isinstance(node.test, ast.Compare | ast.BoolOp | ast.UnaryOp):
            test = node.test
            mutated = self._offer(
                node,
                f"`if {_code(test)}:` → `if not {_code(test)}:`",
                lambda: ast.copy_location(
                    ast.If(test=ast.UnaryOp(op=ast.Not(), operand=test), body=node.body, orelse=node.orelse), node
                ),
            )
            if mutated is not None:
                return mutated
        return self.generic_visit(node)

    def visit_Assert(self, node: ast.Assert) -> Any:
        return node  # type narrowing for mypy; removing or changing it is not a behaviour

    def visit_Import(self, node: ast.Import) -> Any:
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        return node

    def visit_Return(self, node: ast.Return) -> Any:
        if node.value is not None and not (isinstance(node.value, ast.Constant) and node.value.value is None):
            mutated = self._offer(
                node,
                f"`return {_code(node.value)}` → `return None`",
                lambda: ast.copy_location(ast.Return(value=ast.Constant(None)), node),
            )
            if mutated is not None:
                return mutated
        self.generic_visit(node)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        # A class-level default that is not a constant (an enum member, Decimal(0)) becomes None.
        value = node.value
        if (
            self._class_depth
            and not self._function_depth
            and value is not None
            and not isinstance(value, ast.Constant)
            and not _is_attrs_field(value)
        ):
            mutated = self._offer(
                node,
                f"default `{_code(node.target)} = {_code(value)}` → `None`",
                lambda: ast.copy_location(
                    ast.AnnAssign(target=node.target, annotation=node.annotation, value=ast.Constant(None), simple=1),
                    node,
                ),
            )
            if mutated is not None:
                return mutated
        self.generic_visit(node)
        return node

    # --- expressions --------------------------------------------------------------------------------------

    def visit_Compare(self, node: ast.Compare) -> Any:
        self.generic_visit(node)
        for position, op in enumerate(node.ops):
            for replacement in COMPARE_SWAPS.get(type(op), []):

                def make(position: int = position, replacement: type[ast.cmpop] = replacement) -> ast.Compare:
                    ops = list(node.ops)
                    ops[position] = replacement()
                    return ast.copy_location(ast.Compare(left=node.left, ops=ops, comparators=node.comparators), node)

                mutated = self._offer(node, f"`{_code(node)}` → `{_code(make())}`", make)
                if mutated is not None:
                    return mutated
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        self.generic_visit(node)
        other: ast.boolop = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        mutated = self._offer(
            node,
            f"`{'and' if isinstance(node.op, ast.And) else 'or'}` → `{'or' if isinstance(other, ast.Or) else 'and'}`"
            f" in `{_code(node)}`",
            lambda: ast.copy_location(ast.BoolOp(op=other, values=node.values), node),
        )
        return mutated if mutated is not None else node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            mutated = self._offer(node, f"`{_code(node)}` → `{_code(node.operand)}`", lambda: node.operand)
            if mutated is not None:
                return mutated
        return node

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        self.generic_visit(node)
        replacement = BINOP_SWAPS.get(type(node.op))
        if replacement is not None:

            def make() -> ast.BinOp:
                return ast.copy_location(ast.BinOp(left=node.left, op=replacement(), right=node.right), node)

            mutated = self._offer(node, f"`{_code(node)}` → `{_code(make())}`", make)
            if mutated is not None:
                return mutated
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        self.generic_visit(node)
        replacement = BINOP_SWAPS.get(type(node.op))
        if replacement is not None:

            def make() -> ast.AugAssign:
                return ast.copy_location(ast.AugAssign(target=node.target, op=replacement(), value=node.value), node)

            mutated = self._offer(node, f"`{_code(node)}` → `{_code(make())}`", make)
            if mutated is not None:
                return mutated
        return node

    def visit_Constant(self, node: ast.Constant) -> Any:
        value = node.value
        if isinstance(value, bool):
            mutated = self._offer(
                node, f"`{value}` → `{not value}`", lambda: ast.copy_location(ast.Constant(not value), node)
            )
            return mutated if mutated is not None else node
        if isinstance(value, int):
            for delta in (1, -1):
                new = value + delta

                def constant(new: int = new) -> ast.Constant:
                    return ast.copy_location(ast.Constant(new), node)

                mutated = self._offer(node, f"`{value}` → `{new}`", constant)
                if mutated is not None:
                    return mutated
        return node

    def _drop_members(self, node: ast.Set | ast.Tuple, kind: str) -> Any:
        members = [element for element in node.elts if isinstance(element, ast.Attribute)]
        if len(node.elts) < 2 or not members:
            return None
        for element in members:

            def make(element: ast.expr = element) -> ast.AST:
                kept = [e for e in node.elts if e is not element]
                smaller: ast.expr = ast.Tuple(elts=kept, ctx=ast.Load()) if kind == "tuple" else ast.Set(elts=kept)
                return ast.copy_location(smaller, node)

            mutated = self._offer(node, f"{_code(element)} removed from `{_code(node)}`", make)
            if mutated is not None:
                return mutated
        return None

    def visit_Set(self, node: ast.Set) -> Any:
        self.generic_visit(node)
        mutated = self._drop_members(node, "set")
        return mutated if mutated is not None else node

    def visit_Tuple(self, node: ast.Tuple) -> Any:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            mutated = self._drop_members(node, "tuple")
            if mutated is not None:
                return mutated
        return node


def enumerate_mutants(module: str) -> list[NamedMutant]:
    path = f"crm_domain/{module}.py"
    source = (ROOT / "src" / path).read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    census = _Mutator()
    census.visit(copy.deepcopy(tree))
    result: list[NamedMutant] = []
    for index in range(census.count):
        mutator = _Mutator(target=index)
        mutated = ast.fix_missing_locations(mutator.visit(copy.deepcopy(tree)))
        assert mutator.applied is not None
        line, description = mutator.applied
        mutant = Mutant(module, path, index, line, description, ast.unparse(mutated) + "\n")
        result.append(NamedMutant(mutant, lines[line - 1].strip() if line else ""))
    return result


# --- the allow-list of equivalent mutants -------------------------------------------------------------------


def read_equivalent() -> dict[str, str]:
    """Key → reason, from scripts/mutation-equivalent.txt (`path :: line text :: mutation :: reason`)."""
    result: dict[str, str] = {}
    if not EQUIVALENT_FILE.exists():
        return result
    for raw in EQUIVALENT_FILE.read_text().splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split(SEPARATOR)
        if len(parts) != 4:
            raise SystemExit(f"{EQUIVALENT_FILE.name}: expected `path :: line :: mutation :: reason`, got {raw!r}")
        result[SEPARATOR.join(parts[:3])] = parts[3]
    return result


# --- running ------------------------------------------------------------------------------------------------


def _copy_tree(destination: Path) -> None:
    ignore = shutil.ignore_patterns(".hypothesis", "*.db")
    shutil.copytree(ROOT / "src", destination / "src", ignore=ignore)
    shutil.copytree(ROOT / "tests", destination / "tests", ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", destination / "pyproject.toml")


#: Third-party modules the fork server imports once, so that each mutant's pytest starts in a fraction of a
#: second (the project's own modules are never preloaded: each child imports the mutated copy).
PRELOAD = [
    "pytest", "_pytest.assertion.rewrite", "_pytest.python", "_pytest.unittest", "hypothesis", "hypothesis.stateful",
    "hypothesis.strategies", "_hypothesis_pytestplugin", "pytest_timeout", "attrs", "redis", "redis.asyncio",
    "phonenumbers", "msgspec", "structlog", "decimal", "zoneinfo",
]  # fmt: skip


def _pytest_args(workdir: Path, module: str) -> list[str]:
    tests = [
        str(workdir / "tests/unit" / name) for name in MODULE_TESTS[module] if (workdir / "tests/unit" / name).exists()
    ]
    return [
        "-x", "-q", "--no-header", "-p", "no:randomly", "-p", "no:xdist", "-p", "no:faker", "-p", "no:cacheprovider",
        "-p", "mutation", *tests,
    ]  # fmt: skip


def _child(workdir: str, module: str, max_examples: int) -> None:
    """In the forked child: point imports at the temporary copy, run pytest, exit with its status."""
    import pytest

    os.chdir(workdir)
    os.environ["CRM_MUTATION_MAX_EXAMPLES"] = str(max_examples)
    sys.dont_write_bytecode = True
    sys.path[:0] = [str(Path(workdir) / "src"), workdir, str(SCRIPTS)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os._exit(int(pytest.main(_pytest_args(Path(workdir), module))))


_CONTEXT: dict[str, Any] = {}


def _context() -> Any:
    """multiprocessing's forkserver context, preloading PRELOAD (made once)."""
    if not _CONTEXT:
        os.environ.setdefault("PYTHONHASHSEED", "0")
        _CONTEXT["forkserver"] = multiprocessing.get_context("forkserver")
        _CONTEXT["forkserver"].set_forkserver_preload(PRELOAD)
    return _CONTEXT["forkserver"]


def run_tests(workdir: Path, module: str, max_examples: int, timeout: float) -> tuple[str, float]:
    """'killed', 'survived' or 'timeout', and the seconds it took (pytest in a child process)."""
    started = time.monotonic()
    child = _context().Process(target=_child, args=(str(workdir), module, max_examples), daemon=True)
    child.start()
    child.join(timeout)
    if child.is_alive():
        child.kill()
        child.join()
        return "timeout", time.monotonic() - started
    return ("survived" if child.exitcode == 0 else "killed"), time.monotonic() - started


def _run_mutant(slots: Queue[Path], named: NamedMutant, max_examples: int, timeout: float) -> tuple[str, float]:
    workdir = slots.get()
    try:
        target = workdir / "src" / named.mutant.path
        original = target.read_text()
        for stale in (target.parent / "__pycache__").glob(f"{target.stem}.*.pyc"):
            stale.unlink()
        target.write_text(named.mutant.source)
        try:
            return run_tests(workdir, named.mutant.module, max_examples, timeout)
        finally:
            target.write_text(original)
    finally:
        slots.put(workdir)


@dataclass
class _Run:
    """One run over some modules: the temporary copies, the totals, the report."""

    jobs: int
    max_examples: int
    timeout: float
    show_equivalent: bool
    equivalent: dict[str, str]
    totals: dict[str, int]
    seen: set[str]
    lock: threading.Lock
    slots: Queue[Path]

    def module(self, module: str, mutants: list[NamedMutant]) -> bool:
        """Run one module's mutants and print its survivors; False when the clean run already fails."""
        workdir = self.slots.get()
        outcome, clean_seconds = run_tests(workdir, module, self.max_examples, timeout=1800)
        self.slots.put(workdir)
        if outcome != "survived":
            print(f"{module}: the clean run fails; fix the tests first", file=sys.stderr)
            return False
        timeout = self.timeout or clean_seconds * 3 + 20
        print(f"== {module}: {len(mutants)} mutants, clean run {clean_seconds:.1f} s, timeout {timeout:.0f} s")
        reported: list[tuple[NamedMutant, str]] = []

        def one(named: NamedMutant) -> None:
            outcome, _ = _run_mutant(self.slots, named, self.max_examples, timeout)
            with self.lock:
                self.totals["mutants"] += 1
                if outcome == "survived" and named.key in self.equivalent:
                    self.totals["equivalent"] += 1
                    self.seen.add(named.key)
                    if self.show_equivalent:
                        reported.append((named, "equivalent: " + self.equivalent[named.key]))
                    return
                self.totals[outcome] += 1
                if outcome != "killed":
                    reported.append((named, outcome))

        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            list(pool.map(one, mutants))
        for named, outcome in sorted(reported, key=lambda item: item[0].mutant.index):
            print(f"  {outcome.upper()}: src/{named.mutant.path}:{named.mutant.line}: {named.mutant.description}")
            print(f"      {named.line_text}")
        return True


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("modules", nargs="*", help=f"modules of crm_domain (default: {' '.join(DEFAULT_MODULES)})")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--max-examples", type=int, default=10, help="hypothesis examples per test (default 10)")
    parser.add_argument("--timeout", type=float, default=0, help="seconds per mutant (default: 3 × the clean run + 20)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="only mutants whose line or mutation has TEXT (repeatable: any of them)",
    )
    parser.add_argument("--list", action="store_true", help="print the mutants and run nothing")
    parser.add_argument("--show-equivalent", action="store_true", help="also print the allow-listed survivors")
    args = parser.parse_args(argv)
    args.modules = args.modules or DEFAULT_MODULES
    unknown = sorted(set(args.modules) - set(MODULE_TESTS))
    if unknown:
        parser.error(f"no test selection for {', '.join(unknown)}; add it to MODULE_TESTS")
    args.jobs = max(args.jobs, 1)
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    equivalent = read_equivalent()
    mutants = {
        module: [n for n in enumerate_mutants(module) if not args.only or any(text in n.key for text in args.only)]
        for module in args.modules
    }
    if args.list:
        for module in args.modules:
            for named in mutants[module]:
                tag = "  [equivalent]" if named.key in equivalent else ""
                print(f"src/{named.mutant.path}:{named.mutant.line}: {named.mutant.description}{tag}")
        return 0
    started = time.monotonic()
    totals = {"mutants": 0, "killed": 0, "survived": 0, "equivalent": 0, "timeout": 0}
    with tempfile.TemporaryDirectory(prefix="crm-mutation-") as tmp:
        run = _Run(
            jobs=args.jobs,
            max_examples=args.max_examples,
            timeout=args.timeout,
            show_equivalent=args.show_equivalent,
            equivalent=equivalent,
            totals=totals,
            seen=set(),
            lock=threading.Lock(),
            slots=Queue(),
        )
        for n in range(args.jobs):
            _copy_tree(Path(tmp) / f"w{n}")
            run.slots.put(Path(tmp) / f"w{n}")
        for module in args.modules:
            if not run.module(module, mutants[module]):
                return 1
    print(
        "== total: {mutants} mutants, {killed} killed, {survived} survived, {equivalent} equivalent (allow-listed),"
        " {timeout} timeouts".format(**totals)
        + f"; {time.monotonic() - started:.0f} s with -j {args.jobs}"
    )
    if not args.only:
        for key in equivalent:
            module = key.split(SEPARATOR)[0].removeprefix("crm_domain/").removesuffix(".py")
            if module in args.modules and key not in run.seen:
                print(f"  note: allow-listed but no longer a surviving mutant: {key}")
    return 0


# --- the pytest plugin (`-p mutation`) ------------------------------------------------------------------------


def pytest_configure(config: Any) -> None:
    """Register and load the `mutation` hypothesis profile: few, derandomised examples, no database."""
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "mutation",
        max_examples=int(os.environ.get("CRM_MUTATION_MAX_EXAMPLES", "10")),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    settings.load_profile("mutation")


def _capped(current: Any) -> Any:
    from hypothesis import settings

    cap = int(os.environ.get("CRM_MUTATION_MAX_EXAMPLES", "10"))
    return settings(
        current,
        max_examples=min(current.max_examples, cap),
        stateful_step_count=min(current.stateful_step_count, 10),
        derandomize=True,
        database=None,
        deadline=None,
    )


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Cap explicit `@settings(max_examples=…)` too (the profile sets only the default)."""
    from hypothesis import settings

    for item in items:
        function = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        current = getattr(function, "_hypothesis_internal_use_settings", None)
        if isinstance(current, settings):
            function._hypothesis_internal_use_settings = _capped(current)  # type: ignore[union-attr]
        cls = getattr(item, "cls", None)
        if cls is not None and isinstance(getattr(cls, "settings", None), settings):
            cls.settings = _capped(cls.settings)


if __name__ == "__main__":
    sys.exit(main())
