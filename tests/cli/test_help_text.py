"""`crm … --help` reads as help for people (issue 14): no Python type labels (`<bool>`, `<str>`, `<int range>`),
flags without a label, values named, option help in whole sentences; `users list` names managers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import typer

from crm_domain.records import PageRequest
from entrypoints.cli.context import OPERATOR, container, out
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


def test_users_list_names_the_manager(crm_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(out, "width", 300)  # one line per user, whatever terminal the tests run in
    assert crm_cli("demo", "seed", "--months", "1", "--orders-per-month", "5").code == 0
    listed = crm_cli("users", "list").out
    users = container().crm.users.list(OPERATOR, PageRequest(limit=200)).items
    by_id = {user.id: user for user in users}
    reps = [user for user in users if user.manager_id]
    assert reps
    for rep in reps:
        row = next(line for line in listed.splitlines() if f" {rep.mobile} " in line)
        manager_cell = [cell.strip() for cell in row.split("│")][4]
        manager = by_id[rep.manager_id]  # type: ignore[index]
        assert manager_cell == manager.name, row
        assert not manager_cell.startswith("01"), row  # a person's name, not an id
