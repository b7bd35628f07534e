"""`crm … --help` reads as help for people (issue 14): no Python type labels (`<bool>`, `<str>`, `<int range>`),
flags without a label, values named, option help in whole sentences; `users list` names managers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import typer

from entrypoints.cli.main import app
from tests.cli.conftest import Result

Cli = Callable[..., Result]


def commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        found.append(path)
        if hasattr(command, "commands"):
            found += commands(command, path)
    return found


ALL = commands(typer.main.get_group(app))


@pytest.mark.parametrize("path", ALL, ids=[" ".join(p) for p in ALL])
def test_help_has_no_type_labels_and_sentences(crm_cli: Cli, path: tuple[str, ...]) -> None:
    result = crm_cli(*path, "--help")
    assert result.code == 0, result.err
    assert not re.search(r"<(bool|str|int|float|text|path|int range|float range)>", result.out), result.out
    command: Any = typer.main.get_group(app)
    for name in path:
        command = command.commands[name]
    for param in command.params:
        text = getattr(param, "help", None) or ""
        if text:
            assert text[0].isupper() and text.rstrip().endswith("."), f"{path} {param.name}: {text!r}"


def test_flags_show_no_label_and_values_are_named(crm_cli: Cli) -> None:
    text = crm_cli("erp", "sync", "--help").out
    assert re.search(r"--full\s+Ignore", text)
    assert "--since        DATE-TIME" in text
    assert "sap|gennext|sandbox" in text


def test_users_list_names_the_manager(crm_cli: Cli) -> None:
    assert crm_cli("demo", "seed", "--months", "1", "--orders-per-month", "5").code == 0
    listed = crm_cli("users", "list").out
    rows = [line for line in listed.splitlines() if "sales_rep" in line]
    assert rows
    ids = set(re.findall(r"\b01[0-9A-Z]{24}\b", listed))
    for row in rows:
        cells = [cell.strip() for cell in row.split("│")]
        manager = cells[4]
        assert manager and manager not in ids and " " in manager, row  # a person's name, not an id
