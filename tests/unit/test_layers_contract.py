"""The import-linter contract that layers the domain (pyproject.toml: application → use cases → ports → entities)
names every module of `crm_domain`: a new module left out of it would be bound by no layer."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_domain_module_is_in_a_layer() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (layered,) = [c for c in contracts if c["type"] == "layers" and c.get("containers") == ["crm_domain"]]
    named = {name.strip() for layer in layered["layers"] for name in layer.replace("|", ":").split(":")}
    modules = {p.stem for p in (ROOT / "src" / "crm_domain").glob("*.py") if p.stem != "__init__"}
    packages = {p.name for p in (ROOT / "src" / "crm_domain").iterdir() if (p / "__init__.py").exists()}
    assert sorted((modules | packages) - named) == [], "add these crm_domain modules to the layers contract"
