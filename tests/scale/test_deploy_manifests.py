"""The container and deployment files, checked offline: the Compose file against the
compose-spec JSON schema, every Kubernetes object (base and production overlay) against the
Kubernetes OpenAPI schemas, and the links between them (labels, probes, secrets, config).

Schemas: compose-spec as vendored by check-jsonschema (its ``vendor/compose-spec.json``,
licence in ``vendor/licenses/LICENSE.compose-spec``); Kubernetes as shipped by
kubernetes-validate. The overlay is rendered here as kustomize would for the features it
uses (resources, namespace, images, JSON 6902 patches via ``jsonpatch``); no kustomize or
kubectl binary is on PyPI.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonpatch
import jsonschema
import kubernetes_validate
import pytest
import yaml
from quipu.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
K8S_VERSION = "1.33.0"  # oldest minor still supported upstream when this was written


def compose_schema() -> dict[str, Any]:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text())
    return schema


def load_compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return data


def render(folder: Path) -> list[dict[str, Any]]:
    """The objects of a kustomization: its resources (files or folders), generated
    ConfigMaps, then its namespace, images and JSON 6902 patches applied."""
    spec = yaml.safe_load((folder / "kustomization.yaml").read_text())
    objects: list[dict[str, Any]] = []
    for entry in spec.get("resources", []):
        path = (folder / entry).resolve()
        if path.is_dir():
            objects += render(path)
        else:
            objects += [o for o in yaml.safe_load_all(path.read_text()) if o]
    for generator in spec.get("configMapGenerator", []):
        data = {Path(f).name: (folder / f).read_text() for f in generator.get("files", [])}
        objects.append(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}}
            | {"data": data}
        )
    for pairs in spec.get("labels", []):
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(pairs["pairs"])
    if "namespace" in spec:
        for obj in objects:
            if obj["kind"] != "Namespace":
                obj["metadata"]["namespace"] = spec["namespace"]
    for image in spec.get("images", []):
        for obj in objects:
            for container in _containers(obj):
                if container["image"].split(":")[0] == image["name"]:
                    name = image.get("newName", image["name"])
                    container["image"] = f"{name}:{image.get('newTag', 'latest')}"
    for patch in spec.get("patches", []):
        ops = yaml.safe_load((folder / patch["path"]).read_text())
        target = patch["target"]
        matched = [
            o
            for o in objects
            if o["kind"] == target["kind"] and o["metadata"]["name"] == target["name"]
        ]
        assert matched, f"patch {patch['path']} matches no object"
        for obj in matched:
            obj.update(jsonpatch.apply_patch(obj, ops))
    return objects


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    pod = obj.get("spec", {}).get("template", {}).get("spec", {})
    return list(pod.get("containers", []))


def by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in objects}


OVERLAYS = sorted(p.parent for p in (K8S / "overlays").glob("*/kustomization.yaml"))


# --- Compose -----------------------------------------------------------------------------


def test_compose_file_matches_the_compose_spec() -> None:
    jsonschema.validate(load_compose(), compose_schema())


def test_the_compose_schema_check_catches_a_mistake() -> None:
    broken = copy.deepcopy(load_compose())
    broken["services"]["quipu"]["replica"] = 2  # not a service property
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, compose_schema())


def test_compose_runs_two_replicas_on_a_persistent_redis_with_monitoring() -> None:
    compose = load_compose()
    services = compose["services"]
    assert services["quipu"]["deploy"]["replicas"] == 2
    assert services["quipu"]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    redis_cmd = services["redis"]["command"]
    assert redis_cmd[redis_cmd.index("--appendonly") + 1] == "yes"
    assert any(v.startswith("redis-data:/data") for v in services["redis"]["volumes"])
    assert services["anthropic-emulator"]["profiles"] == ["emulator"]
    for name in ("prometheus", "grafana", "lb"):
        assert name in services
    # Every file the stack mounts exists, and Prometheus loads the alerts it mounts.
    mounts = [v.split(":")[0] for s in services.values() for v in s.get("volumes", [])]
    files = [c["file"] for c in compose["configs"].values()]
    for path in [m for m in mounts if m.startswith(".")] + files:
        assert (DEPLOY / path).exists(), path
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert prometheus["rule_files"] == ["alerts.yml"]
    secret = services["prometheus"]["secrets"][0]["target"]
    assert prometheus["scrape_configs"][0]["authorization"]["credentials_file"] == secret
    assert prometheus["scrape_configs"][0]["dns_sd_configs"][0]["names"] == ["quipu"]


def test_container_config_is_valid_and_names_the_metrics_key() -> None:
    settings = load_settings(K8S / "base" / "platform.toml", env={})
    assert [(k.name, k.env, k.roles) for k in settings.auth.keys] == [
        ("prometheus", "QUIPU_METRICS_KEY", ("metrics",))
    ]
    assert load_compose()["services"]["quipu"]["environment"]["QUIPU_METRICS_KEY"]


# --- Kubernetes --------------------------------------------------------------------------


@pytest.mark.parametrize("folder", [K8S / "base", *OVERLAYS], ids=lambda p: p.name)
def test_every_kubernetes_object_matches_the_schemas(folder: Path) -> None:
    objects = render(folder)
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"} <= {
        o["kind"] for o in objects
    }
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    kubernetes_validate.validate(
        yaml.safe_load((K8S / "secret.example.yaml").read_text()), K8S_VERSION, strict=True
    )


def test_the_kubernetes_schema_check_catches_a_mistake() -> None:
    deployment = copy.deepcopy(by_kind(render(K8S / "base"))["Deployment"])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"path": "/ready"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_deployment_wiring() -> None:
    kinds = by_kind(render(K8S / "base"))
    deployment, service = kinds["Deployment"], kinds["Service"]
    pod = deployment["spec"]["template"]
    pod_labels = pod["metadata"]["labels"]
    container = pod["spec"]["containers"][0]
    # Selectors of the Deployment, Service and PDB all pick the pods; the HPA scales it.
    for selector in (
        deployment["spec"]["selector"]["matchLabels"],
        service["spec"]["selector"],
        kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
    ):
        assert selector.items() <= pod_labels.items()
    assert (
        kinds["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"]
        == (deployment["metadata"]["name"])
    )
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/live"
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    # Shut-down: the grace period covers the preStop pause plus Granian's drain.
    assert pod["spec"]["terminationGracePeriodSeconds"] > (
        container["lifecycle"]["preStop"]["sleep"]["seconds"] + 30
    )
    # Secrets come from the Secret whose shape secret.example.yaml shows.
    example = yaml.safe_load((K8S / "secret.example.yaml").read_text())
    refs = [e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e]
    assert {r["name"] for r in refs} == {example["metadata"]["name"]}
    assert {r["key"] for r in refs} <= example["stringData"].keys()
    assert not [
        e for e in container["env"] if e["name"] in ("API_KEY", "REDIS_URL") and "value" in e
    ]
    # The pod runs as the image's user, and mounts the generated config where it is read.
    user = re.search(r"^USER (\d+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert user is not None
    assert pod["spec"]["securityContext"]["runAsUser"] == int(user.group(1))
    env = {e["name"]: e.get("value") for e in container["env"]}
    mount = next(m for m in container["volumeMounts"] if m["name"] == "config")
    assert env["QUIPU_CONFIG"] == f"{mount['mountPath']}/platform.toml"


def test_production_overlay_changes_what_it_says() -> None:
    base, production = by_kind(render(K8S / "base")), by_kind(render(K8S / "overlays/production"))
    assert production["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 4
    assert base["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 3
    assert production["Deployment"]["metadata"]["namespace"] == "quipu"
    image = production["Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry.example.com/quipu:0.1.0"


# --- Dockerfile --------------------------------------------------------------------------


def test_dockerfile_final_stage_is_small_and_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.MULTILINE)
    final = stages[-1]
    assert len(stages) >= 3, "multi-stage: a build stage and a final stage"
    assert "uv sync --locked" in stages[-2]
    assert re.search(r"^USER 10001", final, re.MULTILINE)
    assert "/ready" in final
    assert "HEALTHCHECK" in final
    assert 'ENTRYPOINT ["quipu"]' in final
    for tool in ("uv ", "gcc", "build-essential", "apt-get install"):
        assert tool not in final, f"{tool!r} in the final stage"
    # The build context holds only what the Dockerfile copies (.dockerignore: "*" then "!").
    rules = [r for r in (ROOT / ".dockerignore").read_text().splitlines() if r.startswith("!")]
    for line in text.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert any(
                    fnmatch.fnmatch(source, r[1:].rstrip("/")) or source.startswith(r[1:])
                    for r in rules
                ), f"{source} is copied but excluded by .dockerignore"
