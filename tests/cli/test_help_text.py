"""`crm … --help` reads as help for people (issue 14): no Python type labels (`<bool>`, `<str>`, `<int range>`),
flags without a label, values named, option help and command summaries in whole sentences; `users list` names
managers."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest
import typer
import typer.rich_utils

from crm_domain.records import PageRequest
from entrypoints.cli.context import OPERATOR, container, out
from entrypoints.cli.main import app
from tests.cli.conftest import Result

Cli = Callable[..., Result]


def command_at(path: tuple[str, ...]) -> Any:
    command: Any = typer.main.get_group(app)
    for name in path:
        command = command.commands[name]
    return command


def commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        found.append(path)
        if hasattr(command, "commands"):
            found += commands(command, path)
    return found


ALL = commands(typer.main.get_group(app))
GROUPS = [(), *(path for path in ALL if hasattr(command_at(path), "commands"))]
#: A command's summary tells the operator what it does, as `--help`'s own "Show this message and exit." does: an
#: imperative sentence. A new command with a verb not yet used here adds it.
VERBS = frozenset(
    [
        "Copy",
        "Create",
        "Delete",
        "Deliver",
        "Dispatch",
        "Drive",
        "Import",
        "Invoice",
        "Lift",
        "List",
        "Load",
        "Prepare",
        "Preview",
        "Print",
        "Put",
        "Recompute",
        "Record",
        "Replace",
        "Report",
        "Run",
        "Set",
        "Show",
        "Synchronise",
    ]
)


def summary(command: Any) -> str:
    """What `crm <group> --help` lists for `command`: the first paragraph of its help (its docstring)."""
    return inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]


@pytest.mark.parametrize("path", ALL, ids=[" ".join(p) for p in ALL])
def test_help_has_no_type_labels_and_sentences(crm_cli: Cli, path: tuple[str, ...]) -> None:
    result = crm_cli(*path, "--help")
    assert result.code == 0, result.err
    assert not re.search(r"<(bool|str|int|float|text|path|int range|float range)>", result.out), result.out
    for param in command_at(path).params:
        text = getattr(param, "help", None) or ""
        if text:
            assert text[0].isupper() and text.rstrip().endswith("."), f"{path} {param.name}: {text!r}"


@pytest.mark.parametrize("path", [(), *ALL], ids=["crm", *(" ".join(p) for p in ALL)])
def test_the_summary_of_every_command_is_one_whole_sentence(path: tuple[str, ...]) -> None:
    text = summary(command_at(path))

    assert "\n" not in text, f"{path}: the summary is listed as one row; details go in a later paragraph: {text!r}"
    assert text.split()[0].rstrip(",") in VERBS, f"{path}: not an instruction that starts with a verb: {text!r}"
    assert text.endswith(".") and not text.endswith(".."), f"{path}: no full stop: {text!r}"
    assert text.count("(") == text.count(")") and text.count("`") % 2 == 0, f"{path}: cut short: {text!r}"


@pytest.mark.parametrize("group", GROUPS, ids=["crm", *(" ".join(p) for p in GROUPS[1:])])
def test_every_command_listed_by_help_reads_as_a_sentence_on_its_row(
    crm_cli: Cli, monkeypatch: pytest.MonkeyPatch, group: tuple[str, ...]
) -> None:
    monkeypatch.setattr(typer.rich_utils, "MAX_WIDTH", 400)  # so a row wraps only where the summary breaks
    text = crm_cli(*group, "--help").out
    panel = text.split("─ Commands ")[1].split("╰")[0]
    rows = [line.strip("│ ") for line in panel.splitlines()[1:]]

    listed = {row.split()[0]: row.split(maxsplit=1)[1] for row in rows}
    assert sorted(listed) == sorted(command_at(group).commands), rows  # a continuation row is not a command
    for name, listed_summary in listed.items():
        assert listed_summary[0].isupper() and listed_summary.endswith("."), (name, listed_summary)


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
