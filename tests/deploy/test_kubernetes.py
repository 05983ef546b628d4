"""The Kubernetes manifests under deploy/kubernetes/ run what they claim: every container uses the
image deploy/container/Dockerfile builds (this version's tag, its non-root uid), runs a real
``onboard-sync`` command whose options the CLI accepts, reads the Secret's variables, mounts the
config folder so that ``onboard-sync validate`` accepts it, and is probed on the port and path the
command serves ``/healthz`` on. ``kubectl kustomize`` (where installed) renders both styles with the
generated ConfigMap's name in every volume."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_deploy_files import parse_cli

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "deploy" / "kubernetes"
DOCKERFILE = ROOT / "deploy" / "container" / "Dockerfile"
CONFIG_DIR = Path("/etc/onboard-sync")
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
IMAGE = f"onboard-sync:{VERSION}"
STYLES = ("workers", "cron")

Doc = dict[str, Any]


def documents(path: Path) -> list[Doc]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def workloads() -> dict[str, Doc]:
    """Every workload (Deployment, CronJob) of both styles by name."""
    found: dict[str, Doc] = {}
    for style in STYLES:
        for resource in documents(KUBE / style / "kustomization.yaml")[0]["resources"]:
            path = KUBE / style / resource
            if path.is_file():
                found.update({d["metadata"]["name"]: d for d in documents(path) if d["kind"] != "Service"})
    return found


def pod_spec(workload: Doc) -> Doc:
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return workload["spec"]["template"]["spec"]


def pod_labels(workload: Doc) -> dict[str, str]:
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    return workload["spec"]["template"]["metadata"]["labels"]


def container(workload: Doc) -> Doc:
    [only] = pod_spec(workload)["containers"]
    return only


def command_of(workload: Doc) -> tuple[str, dict[str, Any]]:
    spec = container(workload)
    assert spec["command"] == ["onboard-sync"], "the console script the image installs"
    return parse_cli([str(a) for a in spec["args"]])


WORKLOADS = workloads()


def test_the_manifests_are_the_workloads_the_guide_describes() -> None:
    kinds = {name: w["kind"] for name, w in WORKLOADS.items()}

    assert kinds == {
        "onboard-sync-worker": "Deployment",
        "onboard-sync-receiver": "Deployment",
        "onboard-sync-sync": "CronJob",
    }
    assert {command_of(w)[0] for w in WORKLOADS.values()} == {"worker", "serve", "sync"}


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_every_container_runs_this_versions_image_as_the_images_user(name: str) -> None:
    workload = WORKLOADS[name]
    spec = container(workload)
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")

    assert spec["image"] == IMAGE
    assert re.search(r"^USER (\d+)$", dockerfile, re.MULTILINE)[1] == str(
        pod_spec(workload)["securityContext"]["runAsUser"]
    )
    assert 'ENTRYPOINT ["onboard-sync"]' in dockerfile
    assert f"-t {IMAGE} ." in dockerfile, "the build line in the Dockerfile tags the image the manifests run"
    assert spec["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["securityContext"]["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize("style", STYLES)
def test_each_style_maps_the_image_and_builds_on_the_shared_config(style: str) -> None:
    kustomization = documents(KUBE / style / "kustomization.yaml")[0]

    assert "../base" in kustomization["resources"]
    [image] = kustomization["images"]
    assert (image["name"], str(image["newTag"])) == ("onboard-sync", VERSION)


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_every_command_and_option_exists_and_reads_the_mounted_config(name: str) -> None:
    workload = WORKLOADS[name]
    command, params = command_of(workload)
    spec = container(workload)

    assert params["config"] == CONFIG_DIR / "config.toml"
    [mount] = [m for m in spec["volumeMounts"] if m["name"] == "config"]
    assert Path(mount["mountPath"]) == CONFIG_DIR
    assert mount["readOnly"] is True
    if command == "worker":
        assert params["metrics_port"] == port_number(spec, "metrics")
        assert params["metrics_host"] == "0.0.0.0", "probes and scrapes come from outside the pod"
        grace = params["grace"]
        assert pod_spec(workload)["terminationGracePeriodSeconds"] > grace, "SIGKILL only after the grace"
    if command == "serve":
        assert params["receiver_only"] is True, "receivers run no reconcile: the workers do"
        assert params["port"] == port_number(spec, "http")
        assert params["host"] == "0.0.0.0"


def port_number(spec: Doc, name: str) -> int:
    [port] = [p["containerPort"] for p in spec["ports"] if p["name"] == name]
    return int(port)


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_every_container_reads_the_secret_and_logs_json(name: str) -> None:
    spec = container(WORKLOADS[name])
    [secret] = documents(KUBE / "base" / "secret.example.yaml")

    assert spec["envFrom"] == [{"secretRef": {"name": secret["metadata"]["name"]}}]
    assert {"name": "ONBOARD_SYNC_LOG_FORMAT", "value": "json"} in spec["env"]


@pytest.mark.parametrize("name", ["onboard-sync-worker", "onboard-sync-receiver"])
def test_long_running_pods_are_probed_on_the_health_endpoint_of_their_command(name: str) -> None:
    spec = container(WORKLOADS[name])
    ports = {p["name"] for p in spec["ports"]}

    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        check = spec[probe]["httpGet"]
        assert check["path"] == "/healthz", probe
        assert check["port"] in ports, f"{probe} names a port the container declares"


def test_the_receiver_service_reaches_the_receiver_pods() -> None:
    [service] = [d for d in documents(KUBE / "workers" / "receiver.yaml") if d["kind"] == "Service"]
    receiver = WORKLOADS["onboard-sync-receiver"]

    assert service["spec"]["selector"].items() <= pod_labels(receiver).items()
    assert service["spec"]["selector"] == receiver["spec"]["selector"]["matchLabels"]
    [port] = service["spec"]["ports"]
    assert port["targetPort"] in {p["name"] for p in container(receiver)["ports"]}


def test_deployments_select_their_own_pods_only() -> None:
    selectors = []
    for workload in WORKLOADS.values():
        if workload["kind"] == "Deployment":
            selector = workload["spec"]["selector"]["matchLabels"]
            assert selector.items() <= pod_labels(workload).items()
            selectors.append(tuple(sorted(selector.items())))
    assert len(set(selectors)) == len(selectors)


def test_the_cron_style_never_overlaps_and_never_retries_by_itself() -> None:
    cron = WORKLOADS["onboard-sync-sync"]

    assert cron["spec"]["schedule"] == "*/15 * * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert cron["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 0
    assert pod_spec(cron)["restartPolicy"] == "Never"


def config_map_files() -> dict[str, Path]:
    """The generated ConfigMap's keys → the files in the repository they come from."""
    kustomization = documents(KUBE / "base" / "kustomization.yaml")[0]
    [generator] = kustomization["configMapGenerator"]
    assert generator["name"] == "onboard-sync-config"
    return {key: KUBE / "base" / source for key, _, source in (f.partition("=") for f in generator["files"])}


def mounted_folder(workload: Doc, into: Path) -> Path:
    """Lay the ConfigMap's files out as the pod sees them under /etc/onboard-sync."""
    files = config_map_files()
    volume = config_volume(workload)
    assert volume["configMap"]["name"] == "onboard-sync-config"
    items = volume["configMap"]["items"]
    assert sorted(i["key"] for i in items) == sorted(files), "every file of the ConfigMap is mounted"
    for item in items:
        target = into / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[item["key"]].read_bytes())
    return into


def config_volume(workload: Doc) -> Doc:
    [volume] = [v for v in pod_spec(workload)["volumes"] if v["name"] == "config"]
    return volume


def test_every_workload_mounts_the_same_config_folder() -> None:
    volumes = [config_volume(w) for w in WORKLOADS.values()]

    assert all(v == volumes[0] for v in volumes), "one config for workers, receivers and the cron job"


def test_the_mounted_config_passes_validate_with_the_secrets_variables(tmp_path: Path) -> None:
    folder = mounted_folder(WORKLOADS["onboard-sync-worker"], tmp_path / "etc")
    [secret] = documents(KUBE / "base" / "secret.example.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONBOARD_SYNC_", "HUBSPOT_"))}
    env.update(secret["stringData"])

    result = subprocess.run(
        [sys.executable, "-m", "onboard_sync.cli", "validate", "--config", str(folder / "config.toml")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "serve: webhook routes /webhooks/hubspot (hubspot)" in result.stdout, "the receiver has its secret"


def test_the_shipped_mappings_and_rules_are_what_init_writes() -> None:
    from datetime import date

    from onboard_sync.starter import starter_set

    starter = starter_set(CONFIG_DIR, ["hubspot"], today=date.today()).files
    files = config_map_files()

    assert (
        files["mappings-hubspot.toml"].read_text(encoding="utf-8") == starter[CONFIG_DIR / "mappings" / "hubspot.toml"]
    )
    assert files["rules-playbook.toml"].read_text(encoding="utf-8") == starter[CONFIG_DIR / "rules" / "playbook.toml"]


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not installed (the YAML checks above ran)")
@pytest.mark.parametrize("style", STYLES)
def test_kubectl_kustomize_renders_each_style_with_the_generated_config_map(style: str) -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(KUBE / style)], capture_output=True, text=True, timeout=60, check=False
    )

    assert rendered.returncode == 0, rendered.stderr
    docs = [d for d in yaml.safe_load_all(rendered.stdout) if d]
    [config_map] = [d for d in docs if d["kind"] == "ConfigMap"]
    assert config_map["metadata"]["name"].startswith("onboard-sync-config-"), "a content hash: pods restart on edits"
    assert sorted(config_map["data"]) == sorted(config_map_files())
    for workload in (d for d in docs if d["kind"] in {"Deployment", "CronJob"}):
        [volume] = [v for v in pod_spec(workload)["volumes"] if v["name"] == "config"]
        assert volume["configMap"]["name"] == config_map["metadata"]["name"]
        assert container(workload)["image"] == IMAGE
