"""The part of Kustomize that `deploy/k8s/` uses, so the tests render the overlays without kubectl or kustomize.

Supported: `resources` (files and directories with their own kustomization), `patches` (by `path`, strategic
merge: maps merge, `null` deletes a key, the lists `containers`, `initContainers`, `env` and `volumes` merge
items by `name`, any other list is replaced), `images` (`newName`, `newTag`, `digest`), `namespace` and
`labels` (`pairs` with `includeSelectors: false`; `includeTemplates` adds them to pod templates). Any other
field of a kustomization is refused, so the manifests cannot use more than this renders.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]

SUPPORTED = {"apiVersion", "kind", "resources", "patches", "images", "namespace", "labels"}
MERGED_BY_NAME = {"containers", "initContainers", "env", "volumes"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def render(directory: Path) -> list[Manifest]:
    """The manifests a kustomization directory stands for, with all its transformations applied."""
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unsupported = set(spec) - SUPPORTED
    if unsupported:
        raise ValueError(f"{directory}: kustomization fields not rendered by the tests: {sorted(unsupported)}")
    manifests: list[Manifest] = []
    for entry in spec.get("resources", []):
        path = directory / entry
        manifests += render(path) if path.is_dir() else load_all(path)
    for patch in spec.get("patches", []):
        for document in load_all(directory / patch["path"]):
            _apply_patch(manifests, document)
    if "namespace" in spec:
        for manifest in manifests:
            manifest["metadata"]["namespace"] = spec["namespace"]
    for labels in spec.get("labels", []):
        _add_labels(manifests, labels)
    for image in spec.get("images", []):
        for container in containers(manifests):
            container["image"] = _new_image(container["image"], image)
    return manifests


def load_all(path: Path) -> list[Manifest]:
    """The YAML documents of one file (empty documents left out)."""
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def pod_spec(manifest: Manifest) -> dict[str, Any] | None:
    """The pod spec of a workload (Deployment, Job, …), None for other kinds."""
    if manifest["kind"] not in WORKLOADS:
        return None
    spec: dict[str, Any] = manifest["spec"]["template"]["spec"]
    return spec


def containers(manifests: list[Manifest]) -> list[dict[str, Any]]:
    """Every container and init container of every workload."""
    found: list[dict[str, Any]] = []
    for manifest in manifests:
        spec = pod_spec(manifest)
        if spec is not None:
            found += spec.get("containers", []) + spec.get("initContainers", [])
    return found


def image_name(image: str) -> str:
    """`registry:5000/crm:1.2@sha256:…` → `registry:5000/crm` (a port is not a tag)."""
    name = image.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    return name[:colon] if colon > slash else name


def _new_image(image: str, rule: dict[str, str]) -> str:
    if image_name(image) != rule["name"]:
        return image
    name = rule.get("newName", rule["name"])
    if "digest" in rule:
        return f"{name}@{rule['digest']}"
    if "newTag" in rule:
        return f"{name}:{rule['newTag']}"
    return name + image[len(image_name(image)) :]


def _apply_patch(manifests: list[Manifest], patch: Manifest) -> None:
    key = (patch["kind"], patch["metadata"]["name"])
    targets = [m for m in manifests if (m["kind"], m["metadata"]["name"]) == key]
    if len(targets) != 1:
        raise ValueError(f"patch {key} matches {len(targets)} resources")
    merged = _merge(targets[0], patch)
    targets[0].clear()
    targets[0].update(merged)


def _merge(base: Any, patch: Any, key: str = "") -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for name, value in patch.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = _merge(base.get(name), value, name) if name in base else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and key in MERGED_BY_NAME:
        by_name = {item["name"]: item for item in base}
        result = [_merge(item, _named(patch, item["name"]), key) for item in base]
        return result + [copy.deepcopy(item) for item in patch if item["name"] not in by_name]
    return copy.deepcopy(patch)


def _named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next((item for item in items if item["name"] == name), {})


def _add_labels(manifests: list[Manifest], spec: dict[str, Any]) -> None:
    if spec.get("includeSelectors", False):
        raise ValueError("labels with includeSelectors are not rendered by the tests")
    pairs = spec["pairs"]
    for manifest in manifests:
        manifest["metadata"].setdefault("labels", {}).update(pairs)
        if spec.get("includeTemplates", False) and manifest["kind"] in WORKLOADS:
            template = manifest["spec"]["template"].setdefault("metadata", {})
            template.setdefault("labels", {}).update(pairs)
