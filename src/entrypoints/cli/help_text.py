"""How `crm … --help` names the values options and arguments take. Typer labels each with its Python type
(`<bool>`, `<str>`, `<int range>`), which means nothing to an operator; here a flag shows no label at all, a
value its metavar when the command gives one (`--since DATE-TIME`), the choices when there are some
(`sap|gennext|sandbox`), else the parameter's own name in capitals (`--batch BATCH`, click's convention)."""

from __future__ import annotations

import click
from typer import core


def _label(param: core._TyperParameter, ctx: click.Context) -> str | None:
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    if param.metavar is not None:
        return param.metavar
    described = param.type_descriptor
    if described.is_choice:
        return "|".join(str(getattr(choice, "value", choice)) for choice in described.choices or ())
    name = (param.name or "value").upper().replace("_", "-")
    return f"{name}..." if param.nargs != 1 else name


def plain_labels() -> None:
    """Use `_label` for every Typer parameter of this process (the `crm` command only)."""
    core._TyperParameter.display_type = _label  # type: ignore[assignment,method-assign]
    core._TyperParameter.display_type_rich = _label  # type: ignore[assignment,method-assign]
    core.TyperOption.display_type_rich = _label  # type: ignore[assignment,method-assign]
