"""Names that explain themselves, checked over the source tree (an AST scan, nothing imported).

- One name per class: no two classes in src/ share a name, so a name in a traceback, a log line or a review
  says which class it is.
- No repository method named `list`: it hides the builtin in the class body (forcing `builtins.list[...]`
  annotations) and does not say what it returns; repositories say `page`, `for_period`, `list_for`, ….
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

#: Names two classes may share, with the reason.
SHARED_NAMES = {
    # The HTTP response schema of a domain `crm_domain.records.Page`: its name is published in the OpenAPI
    # document (`Page_OrderOut_`, …), so renaming it would change the API's contract.
    "Page": {"crm_domain/records.py", "entrypoints/http/schemas/common.py"},
}


def _classes() -> list[tuple[str, ast.ClassDef]]:
    """(path relative to src/, class) for every class in src/."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found += [(path.relative_to(SRC).as_posix(), n) for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    return found


def test_the_scan_sees_the_source_tree() -> None:
    names = {node.name for _, node in _classes()}
    assert {"DomainError", "OrderRepository", "ServiceContext", "MongoTx"} <= names


def test_no_class_name_is_used_twice() -> None:
    where: dict[str, set[str]] = defaultdict(set)
    for path, node in _classes():
        where[node.name].add(f"{path}:{node.lineno}")
    repeated = {
        name: places
        for name, places in where.items()
        if len(places) > 1 and {p.rsplit(":", 1)[0] for p in places} != SHARED_NAMES.get(name)
    }
    assert repeated == {}


def test_no_repository_has_a_method_named_list() -> None:
    offenders = [
        f"{path}:{node.name}.{item.name}"
        for path, node in _classes()
        if node.name.endswith("Repository")
        for item in node.body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == "list"
    ]
    assert offenders == []
