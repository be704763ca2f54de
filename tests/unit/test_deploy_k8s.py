"""deploy/k8s: the manifests validate offline, the kustomizations render, and they agree with the code.

No cluster is needed. Kubernetes kinds are checked with ``kubernetes-validate`` (strict: unknown fields
fail) against a pinned Kubernetes version; KEDA's ScaledObject, a CRD that package does not know, is
checked against the JSON Schema below (written from KEDA's ScaledObject and Kafka-scaler docs, for the
fields these manifests use). Rendering uses a small loader that understands exactly the kustomize
features the manifests use; where a ``kustomize`` or ``kubectl`` binary exists, its output must agree.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.settings import Settings
from shared.streams import consumer_group
from shared.topics import topics_for

kubernetes_validate = pytest.importorskip("kubernetes_validate")
jsonschema = pytest.importorskip("jsonschema")

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"

#: The Kubernetes version the manifests are validated against (kubernetes-validate's schema set).
K8S_VERSION = "1.32"

#: Variables for libraries rather than for Settings (libpq reads the database password from it).
LIBRARY_VARS = frozenset({"PGPASSWORD"})

#: The four services (each also a Dockerfile target) and the memory limit every rendering gives them.
SERVICES = {"ingest": "512Mi", "extract": "1Gi", "classify": "512Mi", "store": "512Mi"}
#: Stages scaled by KEDA on consumer lag, with the input topic (a ``Topics`` attribute) they consume.
LAG_SCALED = {"extract": "documents_received", "classify": "segments_extracted"}

Doc = dict[str, Any]

# ---------------------------------------------------------------------------------------------------
# KEDA ScaledObject schema (keda.sh/v1alpha1), the part these manifests use.

_NUMBER = {"type": "string", "pattern": r"^[0-9]+$"}
_BOOL = {"type": "string", "enum": ["true", "false"]}
_KAFKA_METADATA = {
    "type": "object",
    "required": ["bootstrapServers", "consumerGroup", "topic"],
    "additionalProperties": False,  # a misspelt key (lagTreshold) would be ignored by KEDA: refuse it
    "properties": {
        "bootstrapServers": {"type": "string", "pattern": r"^[^,\s:]+:[0-9]+(,[^,\s:]+:[0-9]+)*$"},
        "consumerGroup": {"type": "string", "minLength": 1},
        "topic": {"type": "string", "minLength": 1},
        "lagThreshold": _NUMBER,
        "activationLagThreshold": _NUMBER,
        "offsetResetPolicy": {"enum": ["earliest", "latest"]},
        "allowIdleConsumers": _BOOL,
        "excludePersistentLag": _BOOL,
        "scaleToZeroOnInvalidOffset": _BOOL,
        "limitToPartitionsWithLag": _BOOL,
        "version": {"type": "string"},
        "sasl": {"type": "string"},
        "tls": {"enum": ["enable", "disable"]},
    },
}
_COUNT = {"type": "integer", "minimum": 0}
SCALEDOBJECT_SCHEMA: Doc = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "ScaledObject"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                "namespace": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "spec": {
            "type": "object",
            "required": ["scaleTargetRef", "triggers"],
            "additionalProperties": False,
            "properties": {
                "scaleTargetRef": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "name": {"type": "string", "minLength": 1},
                        "envSourceContainerName": {"type": "string"},
                    },
                },
                "pollingInterval": {"type": "integer", "minimum": 1},
                "cooldownPeriod": _COUNT,
                "initialCooldownPeriod": _COUNT,
                "idleReplicaCount": _COUNT,
                "minReplicaCount": _COUNT,
                "maxReplicaCount": {"type": "integer", "minimum": 1},
                "triggers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["type", "metadata"],
                        "additionalProperties": False,
                        "properties": {
                            "type": {"type": "string"},
                            "name": {"type": "string"},
                            # KEDA's CRD: trigger metadata is a map of strings (numbers must be quoted)
                            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                            "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                            "useCachedMetrics": {"type": "boolean"},
                            "authenticationRef": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"name": {"type": "string"}, "kind": {"type": "string"}},
                            },
                        },
                        "if": {"properties": {"type": {"const": "kafka"}}},
                        "then": {"properties": {"metadata": _KAFKA_METADATA}},
                    },
                },
            },
        },
    },
}

#: The kustomize features the loader below implements; a kustomization using others fails the test.
KUSTOMIZATION_SCHEMA: Doc = {
    "type": "object",
    "required": ["apiVersion", "kind", "resources"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "kustomize.config.k8s.io/v1beta1"},
        "kind": {"const": "Kustomization"},
        "namespace": {"type": "string"},
        "resources": {"type": "array", "items": {"type": "string"}},
        "patches": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path"],
                "additionalProperties": False,  # one strategic-merge patch per file, target by kind + name
                "properties": {"path": {"type": "string"}},
            },
        },
        "images": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "newName": {"type": "string"},
                    "newTag": {"type": "string"},
                },
            },
        },
    },
}

# ---------------------------------------------------------------------------------------------------
# Loading and rendering


def _docs(path: Path) -> list[Doc]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def _kustomization(directory: Path) -> Doc:
    doc = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _kustomization_dirs() -> list[Path]:
    return sorted(p.parent for p in K8S.rglob("kustomization.yaml"))


def _resource_files() -> list[Path]:
    """Every manifest file a kustomization lists (directories are other kustomizations)."""
    files: list[Path] = []
    for directory in _kustomization_dirs():
        for entry in _kustomization(directory).get("resources", []):
            path = (directory / entry).resolve()
            if path.is_file():
                files.append(path)
    return sorted(set(files))


def _patch_files() -> list[Path]:
    return sorted(
        {
            (d / p["path"]).resolve()
            for d in _kustomization_dirs()
            for p in _kustomization(d).get("patches", [])
        }
    )


def _merge(base: Any, patch: Any) -> Any:
    """Strategic merge as kustomize applies it to what these patches touch: maps merge key by key,
    lists of named maps (containers, env, volumes) merge by ``name``, any other list is replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if _named_list(base) and _named_list(patch):
        merged = [copy.deepcopy(item) for item in base]
        index = {item["name"]: i for i, item in enumerate(merged)}
        for item in patch:
            if item["name"] in index:
                merged[index[item["name"]]] = _merge(merged[index[item["name"]]], item)
            else:
                merged.append(copy.deepcopy(item))
        return merged
    return copy.deepcopy(patch)


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) and "name" in i for i in value)


def _containers(doc: Doc) -> list[Doc]:
    spec = _pod_spec(doc)
    if spec is None:
        return []
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def _pod_spec(doc: Doc) -> Doc | None:
    if doc.get("kind") in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
        spec: Doc = doc["spec"]["template"]["spec"]
        return spec
    return None


def _set_image(image: str, rule: Doc) -> str:
    name, _, tag = image.partition(":")
    if name != rule["name"]:
        return image
    return f"{rule.get('newName', name)}:{rule.get('newTag', tag)}"


CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


def render(directory: Path) -> list[Doc]:
    """Build a kustomization: its resources (recursively), then its patches, images and namespace."""
    kust = _kustomization(directory)
    jsonschema.validate(kust, KUSTOMIZATION_SCHEMA)
    docs: list[Doc] = []
    for entry in kust.get("resources", []):
        path = directory / entry
        docs.extend(render(path) if path.is_dir() else copy.deepcopy(_docs(path)))
    for entry in kust.get("patches", []):
        patches = _docs(directory / entry["path"])
        assert len(patches) == 1, f"{entry['path']}: one patch per file"
        patch = patches[0]
        matches = [i for i, d in enumerate(docs) if _key(d) == _key(patch)]
        assert len(matches) == 1, f"{entry['path']}: patch target {_key(patch)} not found exactly once"
        docs[matches[0]] = _merge(docs[matches[0]], patch)
    for rule in kust.get("images", []):
        for doc in docs:
            for container in _containers(doc):
                container["image"] = _set_image(container["image"], rule)
    if "namespace" in kust:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = kust["namespace"]
    return docs


def _key(doc: Doc) -> tuple[str, str]:
    return doc["kind"], doc["metadata"]["name"]


def _by_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def validate(doc: Doc) -> None:
    """Schema-check one object: KEDA kinds against our schema, everything else with kubernetes-validate."""
    if doc.get("apiVersion", "").startswith("keda.sh/"):
        jsonschema.validate(doc, SCALEDOBJECT_SCHEMA)
        return
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(p) for p in exc.path)
        pytest.fail(f"{_key(doc)} is not valid Kubernetes {K8S_VERSION}: {where}: {exc.message}")


def _rendered() -> Iterator[tuple[str, list[Doc]]]:
    for directory in _kustomization_dirs():
        yield str(directory.relative_to(REPO)), render(directory)


def _configmap_settings(docs: list[Doc]) -> Settings:
    """The Settings a pod of this rendering would see (ConfigMap data only; no defaults from outside)."""
    data = _by_kind(docs, "ConfigMap")["innspill-settings"]["data"]
    fields = {f"INNSPILL_{name.upper()}": name for name in Settings.model_fields}
    return Settings.model_validate({fields[k]: v for k, v in data.items() if k in fields})


def _env_names(container: Doc) -> list[str]:
    return [e["name"] for e in container.get("env", [])]


def _env(container: Doc, name: str) -> Doc:
    found: list[Doc] = [e for e in container.get("env", []) if e["name"] == name]
    assert len(found) == 1, f"{container['name']}: {name} set {len(found)} times"
    return found[0]


KUSTOMIZATION_IDS = [str(d.relative_to(K8S)) for d in _kustomization_dirs()]


# ---------------------------------------------------------------------------------------------------
# Structure


def test_base_and_local_overlay_exist() -> None:
    assert (K8S / "base" / "kustomization.yaml").is_file()
    assert (K8S / "overlays" / "local" / "kustomization.yaml").is_file()
    assert (DEPLOY / "README.md").is_file()


@pytest.mark.parametrize("directory", _kustomization_dirs(), ids=KUSTOMIZATION_IDS)
def test_kustomization_references_exist(directory: Path) -> None:
    kust = _kustomization(directory)
    jsonschema.validate(kust, KUSTOMIZATION_SCHEMA)
    for entry in kust.get("resources", []):
        path = directory / entry
        assert path.is_file() or (path / "kustomization.yaml").is_file(), (
            f"{directory}: missing resource {entry}"
        )
    for entry in kust.get("patches", []):
        assert (directory / entry["path"]).is_file(), f"{directory}: missing patch {entry['path']}"


def test_every_yaml_file_under_deploy_is_used() -> None:
    """A manifest no kustomization lists is never applied: it is dead or forgotten."""
    used = set(_resource_files()) | set(_patch_files())
    used |= {(d / "kustomization.yaml").resolve() for d in _kustomization_dirs()}
    files = {p.resolve() for p in DEPLOY.rglob("*.y*ml")}
    assert files - used == set(), f"not referenced by any kustomization: {sorted(files - used)}"


# ---------------------------------------------------------------------------------------------------
# Schemas


@pytest.mark.parametrize("path", _resource_files(), ids=lambda p: str(p.relative_to(K8S)))
def test_every_manifest_validates(path: Path) -> None:
    docs = _docs(path)
    assert docs, f"{path} holds no objects"
    for doc in docs:
        validate(doc)


@pytest.mark.parametrize("directory", _kustomization_dirs(), ids=KUSTOMIZATION_IDS)
def test_rendered_kustomization_validates(directory: Path) -> None:
    docs = render(directory)
    keys = [_key(d) for d in docs]
    assert len(keys) == len(set(keys)), "an object is defined twice"
    for doc in docs:
        validate(doc)


def test_schema_checks_catch_mistakes() -> None:
    """The validators are not vacuous: a typo'd field fails each of them."""
    deployment = _by_kind(render(K8S / "base"), "Deployment")["ingest"]
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)
    scaled = copy.deepcopy(_by_kind(render(K8S / "base"), "ScaledObject")["classify"])
    scaled["spec"]["triggers"][0]["metadata"]["lagTreshold"] = "5"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(scaled, SCALEDOBJECT_SCHEMA)
    scaled = copy.deepcopy(_by_kind(render(K8S / "base"), "ScaledObject")["classify"])
    scaled["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 5
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(scaled, SCALEDOBJECT_SCHEMA)


def _normalise(value: Any) -> Any:
    """Order-free form: kustomize sorts keys and may reorder merged lists."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in sorted(value.items())}
    if _named_list(value):
        return [_normalise(v) for v in sorted(value, key=lambda item: str(item["name"]))]
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _kustomize_command() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


@pytest.mark.parametrize("directory", _kustomization_dirs(), ids=KUSTOMIZATION_IDS)
def test_loader_agrees_with_kustomize(directory: Path) -> None:
    command = _kustomize_command()
    if command is None:
        pytest.skip("no kustomize or kubectl binary; the loader's rendering is checked on its own")
    out = subprocess.run([*command, str(directory)], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    theirs = {_key(d): _normalise(d) for d in yaml.safe_load_all(out.stdout) if d}
    ours = {_key(d): _normalise(d) for d in render(directory)}
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert ours[key] == theirs[key], f"{key} renders differently"


# ---------------------------------------------------------------------------------------------------
# Agreement with the code


@pytest.mark.parametrize("directory", _kustomization_dirs(), ids=KUSTOMIZATION_IDS)
def test_every_env_var_is_a_setting(directory: Path) -> None:
    known = {f"INNSPILL_{name.upper()}" for name in Settings.model_fields}
    docs = render(directory)
    used = set(_by_kind(docs, "ConfigMap")["innspill-settings"]["data"])
    for doc in docs:
        for container in _containers(doc):
            used |= set(_env_names(container))
    unknown = used - known - LIBRARY_VARS
    assert not unknown, f"not settings of shared.settings.Settings: {sorted(unknown)}"
    _configmap_settings(docs)  # and every value parses as that setting's type


@pytest.mark.parametrize("directory", _kustomization_dirs(), ids=KUSTOMIZATION_IDS)
def test_each_service_is_deployed_with_service_probes_and_budget(directory: Path) -> None:
    docs = render(directory)
    settings = _configmap_settings(docs)
    deployments, services = _by_kind(docs, "Deployment"), _by_kind(docs, "Service")
    budgets = _by_kind(docs, "PodDisruptionBudget")
    assert set(deployments) == set(SERVICES)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]
        labels = pod["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        (container,) = pod["spec"]["containers"]
        port = int(getattr(settings, f"{name}_port"))
        assert {"name": "http", "containerPort": port} in container["ports"]
        # Liveness: the process runs; readiness: the broker answers (503 from /readyz while it does not).
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, name
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, name
        assert {"configMapRef": {"name": "innspill-settings"}} in container["envFrom"]
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(
            resources["limits"]
        )
        service = services[name]
        assert service["spec"]["selector"].items() <= labels.items()
        assert service["spec"]["ports"][0]["targetPort"] == "http"
        assert budgets[name]["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_memory_limits_fit_the_measured_need() -> None:
    """Services stay under about 400 MB; extract forks PDF children and gets more headroom."""
    for directory in _kustomization_dirs():
        for name, deployment in _by_kind(render(directory), "Deployment").items():
            limit = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
            assert limit == SERVICES[name], f"{directory.name}/{name}: memory limit {limit}"


def test_extract_and_classify_get_more_cpu() -> None:
    deployments = _by_kind(render(K8S / "base"), "Deployment")

    def cpu(name: str) -> float:
        value = str(
            deployments[name]["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]
        )
        return float(value[:-1]) / 1000 if value.endswith("m") else float(value)

    for heavy in ("extract", "classify"):
        assert cpu(heavy) > max(cpu("ingest"), cpu("store")), heavy


@pytest.mark.parametrize("directory", _kustomization_dirs(), ids=KUSTOMIZATION_IDS)
def test_secrets_come_only_from_optional_secret_refs(directory: Path) -> None:
    docs = render(directory)
    assert not _by_kind(docs, "Secret"), "a Secret with values must not be shipped"
    secret_like = {
        "INNSPILL_API_TOKEN",
        "INNSPILL_S3_ACCESS_KEY_ID",
        "INNSPILL_S3_SECRET_ACCESS_KEY",
        "PGPASSWORD",
    }
    assert not secret_like & set(_by_kind(docs, "ConfigMap")["innspill-settings"]["data"])
    for name, deployment in _by_kind(docs, "Deployment").items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        token = _env(container, "INNSPILL_API_TOKEN")
        assert "value" not in token
        assert token["valueFrom"]["secretKeyRef"]["optional"] is True, name
        for env in container["env"]:
            if env["name"] in secret_like:
                assert "value" not in env and "secretKeyRef" in env["valueFrom"], (name, env["name"])


@pytest.mark.parametrize("directory", _kustomization_dirs(), ids=KUSTOMIZATION_IDS)
def test_pods_get_no_service_link_variables(directory: Path) -> None:
    """Service links inject <NAME>_PORT=tcp://... variables, which can shadow INNSPILL_*_PORT settings."""
    for doc in render(directory):
        spec = _pod_spec(doc)
        if spec is not None:
            assert spec.get("enableServiceLinks") is False, _key(doc)


def _module_exists(module: str) -> bool:
    path = REPO / module.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__main__.py").is_file()


def test_images_and_commands_match_the_dockerfile() -> None:
    """Each image is a Dockerfile target (innspill/<target>) and each command runs a module the
    image's sources contain."""
    targets = set(re.findall(r"^FROM \S+ AS (\w+)", (REPO / "Dockerfile").read_text(), re.M))
    for doc in render(K8S / "base"):
        for container in _containers(doc):
            repo_name = container["image"].split(":", 1)[0]
            assert repo_name.startswith("innspill/"), container["image"]
            assert repo_name.removeprefix("innspill/") in targets, f"{container['image']}: no such target"
            command = container["command"]
            assert command[:2] == ["python", "-m"] and _module_exists(command[2]), command
    for name, deployment in _by_kind(render(K8S / "base"), "Deployment").items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["image"].startswith(f"innspill/{name}:")
        assert container["command"] == ["python", "-m", f"services.{name}"]


@pytest.mark.parametrize("directory", _kustomization_dirs(), ids=KUSTOMIZATION_IDS)
def test_extract_and_classify_scale_on_consumer_lag(directory: Path) -> None:
    docs = render(directory)
    settings = _configmap_settings(docs)
    topics = topics_for(settings)
    partitions = topics.partitions(settings)
    scaled, deployments = _by_kind(docs, "ScaledObject"), _by_kind(docs, "Deployment")
    assert set(scaled) == set(LAG_SCALED)
    for stage, topic_attr in LAG_SCALED.items():
        spec = scaled[stage]["spec"]
        assert spec["scaleTargetRef"]["name"] == stage and stage in deployments
        assert "replicas" not in deployments[stage]["spec"], f"{stage}: KEDA owns the replica count"
        (trigger,) = spec["triggers"]
        assert trigger["type"] == "kafka"
        meta = trigger["metadata"]
        assert meta["bootstrapServers"] == settings.kafka_bootstrap
        assert meta["consumerGroup"] == consumer_group(settings, stage)
        assert meta["topic"] == getattr(topics, topic_attr)
        assert int(meta["lagThreshold"]) > 0
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= partitions[meta["topic"]]
        if directory == K8S / "base":
            assert spec["maxReplicaCount"] == partitions[meta["topic"]], f"{stage}: one replica per partition"


def test_base_partition_counts_are_the_code_defaults() -> None:
    """The base's topic layout is the code's: documents 3 partitions, segments 6."""
    settings = _configmap_settings(render(K8S / "base"))
    for field in ("document_partitions", "segment_partitions"):
        assert getattr(settings, field) == Settings.model_fields[field].default, field
