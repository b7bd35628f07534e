"""The Kubernetes manifests (`deploy/k8s/`), checked without a cluster: each overlay is rendered by the small
Kustomize of `tests/deploy/kustomize.py`, validated against the Kubernetes 1.30 schemas bundled with
kubernetes-validate (offline, strict: unknown fields fail), and held to the deployment policy of SPEC §9."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import typer
import typer.main
import yaml
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from entrypoints.cli.main import app as cli
from entrypoints.settings import Settings
from tests.deploy.kustomize import Manifest, containers, image_name, pod_spec, render

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ROOT / "deploy" / "k8s" / "overlays"
NAMESPACES = {"staging": "crm-staging", "production": "crm-production"}
KUBERNETES_VERSION = "1.30"
SECRET_NAME = "crm-secrets"
DOCKERFILE_UID = int(re.search(r"--uid (\d+)", (ROOT / "Dockerfile").read_text()).group(1))  # type: ignore[union-attr]


def _is_secret(name: str, field: FieldInfo) -> bool:
    """SecretStr settings, and the URLs that carry a password."""
    return name in {"database_url", "redis_url"} or SecretStr in getattr(field.annotation, "__args__", ())


PREFIX = str(Settings.model_config.get("env_prefix"))
SETTINGS = {PREFIX + name.upper() for name in Settings.model_fields}
SECRET_SETTINGS = {PREFIX + name.upper() for name, field in Settings.model_fields.items() if _is_secret(name, field)}


@pytest.fixture(scope="module", params=sorted(NAMESPACES))
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def manifests(overlay: str) -> list[Manifest]:
    return render(OVERLAYS / overlay)


def one(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    [found] = [m for m in manifests if (m["kind"], m["metadata"]["name"]) == (kind, name)]
    return found


def container(manifests: list[Manifest], workload: str) -> dict[str, Any]:
    spec = pod_spec(one(manifests, "Job" if workload == "crm-db-init" else "Deployment", workload))
    assert spec is not None
    [only] = spec["containers"]
    return dict(only)


def workloads(manifests: list[Manifest]) -> list[Manifest]:
    return [m for m in manifests if pod_spec(m) is not None]


def parse_crm_command(argv: list[str]) -> dict[str, Any]:
    """Parse a `crm …` command line with the real CLI and return its options; an unknown command fails, an
    unknown option or a bad value raises Typer's usage error."""
    assert argv[0] == "crm"
    command: Any = typer.main.get_command(cli)
    args = list(argv[1:])
    while hasattr(command, "commands"):
        assert args and args[0] in command.commands, f"no command {args[:1]} in {argv}"
        command, args = command.commands[args[0]], args[1:]
    return dict(command.make_context(" ".join(argv), args).params)


def test_the_resources_of_each_overlay_in_its_own_namespace(overlay: str, manifests: list[Manifest]) -> None:
    assert sorted((m["kind"], m["metadata"]["name"]) for m in manifests) == [
        ("ConfigMap", "crm-config"),
        ("Deployment", "crm-api"),
        ("Deployment", "crm-worker"),
        ("HorizontalPodAutoscaler", "crm-api"),
        ("Ingress", "crm-api"),
        ("Job", "crm-db-init"),
        ("NetworkPolicy", "crm-api-ingress"),
        ("NetworkPolicy", "crm-deny-ingress"),
        ("NetworkPolicy", "crm-worker-metrics-ingress"),
        ("PodDisruptionBudget", "crm-api"),
        ("PodDisruptionBudget", "crm-worker"),
        ("Service", "crm-api"),
        ("ServiceAccount", "crm"),
    ]
    assert {m["metadata"]["namespace"] for m in manifests} == {NAMESPACES[overlay]}
    assert all(m["metadata"]["labels"]["app.kubernetes.io/instance"] == f"crm-{overlay}" for m in manifests)


def test_every_manifest_is_valid_against_the_kubernetes_schemas(manifests: list[Manifest]) -> None:
    for manifest in manifests:
        assert kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True) == KUBERNETES_VERSION


def test_the_validation_catches_a_misspelt_field(manifests: list[Manifest]) -> None:
    broken = yaml.safe_load(yaml.safe_dump(one(manifests, "Deployment", "crm-api")))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_api_is_probed_on_health_live_and_health_ready(manifests: list[Manifest]) -> None:
    api = container(manifests, "crm-api")
    port = api["ports"][0]
    assert (port["name"], port["containerPort"]) == ("http", 8000)
    assert api["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert api["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert api["startupProbe"]["httpGet"]["path"] == "/health/live"


def test_the_worker_is_probed_by_a_crm_command_that_exists(manifests: list[Manifest]) -> None:
    worker = container(manifests, "crm-worker")
    probes = [worker[p] for p in ("livenessProbe", "readinessProbe", "startupProbe") if p in worker]
    assert probes
    for probe in probes:
        parse_crm_command(probe["exec"]["command"])
    command, check = worker["command"], worker["livenessProbe"]["exec"]["command"]
    assert "--check" in check  # liveness: the heartbeat the worker's own command touches
    assert check[check.index("--heartbeat") + 1] == command[command.index("--heartbeat") + 1]


def test_every_command_and_probe_is_a_real_crm_command_line(manifests: list[Manifest]) -> None:
    commands = {c["name"]: c["command"] for c in containers(manifests)}
    assert commands["api"][:2] == ["crm", "serve"]
    assert commands["worker"][:2] == ["crm", "worker"]
    assert commands["db-init"] == ["crm", "db", "init"]
    serve = parse_crm_command(commands["api"])
    assert (serve["host"], serve["port"]) == ("0.0.0.0", 8000)
    for argv in commands.values():
        parse_crm_command(argv)
    with pytest.raises(typer.TyperException, match="No such option"):
        parse_crm_command(["crm", "worker", "--health-port", "8001"])


def test_every_container_has_resource_requests_and_limits(manifests: list[Manifest]) -> None:
    for c in containers(manifests):
        for kind in ("requests", "limits"):
            assert set(c["resources"][kind]) == {"cpu", "memory"}, (c["name"], kind)


def test_pods_run_as_the_image_user_without_privileges_on_a_read_only_root(manifests: list[Manifest]) -> None:
    for workload in workloads(manifests):
        spec = pod_spec(workload)
        assert spec is not None
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == DOCKERFILE_UID == 10001
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        empty_dirs = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for c in spec["containers"]:
            own = c["securityContext"]
            assert own["runAsNonRoot"] is True and own["readOnlyRootFilesystem"] is True
            assert own["allowPrivilegeEscalation"] is False
            assert own["capabilities"] == {"drop": ["ALL"]}
            mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
            assert mounts["/tmp"] in empty_dirs and mounts["/data"] in empty_dirs
    api_mounts = {m["mountPath"] for m in container(manifests, "crm-api")["volumeMounts"]}
    assert "/data/prometheus" in api_mounts  # PROMETHEUS_MULTIPROC_DIR of `crm serve`: DATA_DIR/prometheus


def test_images_are_pinned_to_a_tag_or_digest(manifests: list[Manifest]) -> None:
    images = {c["image"] for c in containers(manifests)}
    assert len(images) == 1  # one image for api, worker and the Job
    for image in images:
        reference = image.removeprefix(image_name(image))
        assert re.fullmatch(r":[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64}", reference), image
        assert reference != ":latest", image


def test_every_crm_variable_is_a_setting_and_the_settings_pass_the_production_checks(
    manifests: list[Manifest],
) -> None:
    config = one(manifests, "ConfigMap", "crm-config")["data"]
    names = set(config)
    for c in containers(manifests):
        names |= {e["name"] for e in c.get("env", [])}
        assert [ref["configMapRef"]["name"] for ref in c["envFrom"]] == ["crm-config"]
    assert {n for n in names if n.startswith(PREFIX)} == names
    assert names <= SETTINGS, names - SETTINGS
    assert config["CRM_ENV"] == "prod" and config["CRM_DATA_DIR"] == "/data"
    secrets = {"CRM_JWT_SECRET": "s" * 48, "CRM_DATABASE_URL": "mongodb://crm:pw@mongo-0,mongo-1/crm?replicaSet=rs0"}
    settings = Settings(**{k.removeprefix(PREFIX).lower(): v for k, v in {**config, **secrets}.items()})
    assert settings.env == "prod"


def test_secrets_are_only_referenced_never_written(manifests: list[Manifest]) -> None:
    assert not [m for m in manifests if m["kind"] == "Secret"]
    config = one(manifests, "ConfigMap", "crm-config")["data"]
    assert not set(config) & SECRET_SETTINGS
    for value in config.values():
        assert not re.search(r"//[^/@\s]*:[^/@\s]*@", value), value  # no user:password@ in a URL
    for c in containers(manifests):
        for env in c.get("env", []):
            assert "value" not in env, env  # everything set one by one comes from the Secret
            assert env["valueFrom"]["secretKeyRef"]["name"] == SECRET_NAME
    api = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container(manifests, "crm-api")["env"]}
    required = {name for name, ref in api.items() if not ref.get("optional", False)}
    assert required == {"CRM_DATABASE_URL", "CRM_REDIS_URL", "CRM_JWT_SECRET"}


def test_the_api_drains_before_it_stops(manifests: list[Manifest]) -> None:
    api = one(manifests, "Deployment", "crm-api")
    sleep = api["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep[0] == "sleep"
    assert api["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= int(sleep[1]) + 30
    assert api["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_selectors_match_the_pods_they_mean(manifests: list[Manifest]) -> None:
    pods = {m["metadata"]["name"]: m["spec"]["template"]["metadata"]["labels"] for m in workloads(manifests)}

    def selects(selector: dict[str, str], workload: str) -> bool:
        return selector.items() <= pods[workload].items() and not all(
            selector.items() <= labels.items() for labels in pods.values()
        )

    for name in ("crm-api", "crm-worker"):
        deployment = one(manifests, "Deployment", name)
        assert selects(deployment["spec"]["selector"]["matchLabels"], name)
        for spread in deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]:
            assert selects(spread["labelSelector"]["matchLabels"], name)
        assert selects(one(manifests, "PodDisruptionBudget", name)["spec"]["selector"]["matchLabels"], name)
    assert selects(one(manifests, "Service", "crm-api")["spec"]["selector"], "crm-api")
    assert selects(one(manifests, "NetworkPolicy", "crm-api-ingress")["spec"]["podSelector"]["matchLabels"], "crm-api")
    deny = one(manifests, "NetworkPolicy", "crm-deny-ingress")["spec"]
    assert all(deny["podSelector"]["matchLabels"].items() <= labels.items() for labels in pods.values())
    assert deny["policyTypes"] == ["Ingress"] and "ingress" not in deny


def test_the_api_scales_with_a_horizontal_pod_autoscaler(manifests: list[Manifest]) -> None:
    hpa = one(manifests, "HorizontalPodAutoscaler", "crm-api")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "crm-api"}
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert "replicas" not in one(manifests, "Deployment", "crm-api")["spec"]  # the autoscaler owns them
    budget = one(manifests, "PodDisruptionBudget", "crm-api")["spec"]
    assert budget.get("minAvailable", 0) < hpa["spec"]["minReplicas"]  # a node drain can always evict one


def test_the_ingress_serves_the_api_but_not_metrics_or_health(manifests: list[Manifest]) -> None:
    service = one(manifests, "Service", "crm-api")
    [rule] = one(manifests, "Ingress", "crm-api")["spec"]["rules"]
    paths = rule["http"]["paths"]
    assert {p["path"] for p in paths} == {"/api", "/schema"}
    for p in paths:
        assert p["backend"]["service"] == {"name": "crm-api", "port": {"name": "http"}}
        assert not any(hidden.startswith(p["path"]) for hidden in ("/metrics", "/health/ready", "/health/live"))
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_the_db_init_job_runs_once_with_the_same_settings(manifests: list[Manifest]) -> None:
    job = one(manifests, "Job", "crm-db-init")
    db_init = container(manifests, "crm-db-init")
    assert db_init["command"] == ["crm", "db", "init"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert {e["name"] for e in db_init["env"]} == {"CRM_DATABASE_URL", "CRM_JWT_SECRET"}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed: no comparison with Kustomize")
def test_the_test_renderer_agrees_with_kubectl_kustomize(overlay: str, manifests: list[Manifest]) -> None:
    """Where kubectl is installed, the real Kustomize renders exactly what the tests check."""
    output = subprocess.run(
        ["kubectl", "kustomize", str(OVERLAYS / overlay)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    real = [m for m in yaml.safe_load_all(output) if m]

    def key(m: Manifest) -> tuple[str, str]:
        return m["kind"], m["metadata"]["name"]

    assert sorted(real, key=key) == sorted(manifests, key=key)


def test_the_worker_serves_its_metrics_on_the_port_prometheus_scrapes(manifests: list[Manifest]) -> None:
    [deployment] = [m for m in manifests if (m["kind"], m["metadata"]["name"]) == ("Deployment", "crm-worker")]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    worker = container(manifests, "crm-worker")
    config = one(manifests, "ConfigMap", "crm-config")["data"]
    ports = {p["name"]: p["containerPort"] for p in worker["ports"]}
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == config["CRM_WORKER_METRICS_PORT"] == str(ports["metrics"])
    [policy] = [m for m in manifests if m["metadata"]["name"] == "crm-worker-metrics-ingress"]
    assert policy["spec"]["ingress"][0]["ports"] == [{"port": "metrics", "protocol": "TCP"}]
