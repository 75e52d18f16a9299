"""deploy/ checked offline: no image can be built or run here (no container daemon, no registry),
so the compose file is checked against the Compose specification's schema, the Kubernetes
manifests against Kubernetes' own schemas (strictly: an unknown field is an error), and the
entry point's sub-commands are run for real.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cryptography.fernet import Fernet

from service.config import Settings
from tests.commands import ROOT

from .stack import ENTRYPOINT, environment

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES = "1.30"  # the oldest release still supported by the big clouds
PARTS = ("web", "worker", "scheduler", "migrate", "health")


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def manifests() -> list[dict[str, Any]]:
    """Every resource the kustomization lists, as kubectl kustomize would render them."""
    kubectl = shutil.which("kubectl")
    if kubectl:
        rendered = subprocess.run(
            [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, check=True
        ).stdout
        return [doc for doc in yaml.safe_load_all(rendered) if doc]
    return [doc for name in resources() for doc in yaml.safe_load_all((K8S / name).read_text())]


def resources() -> list[str]:
    return list(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])


def test_the_compose_file_follows_the_compose_specification() -> None:
    schema = ["--builtin-schema", "vendor.compose-spec"]
    ran = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *schema, str(DEPLOY / "compose.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_compose_runs_every_part_with_health_checks_and_a_redis_that_keeps_its_queue() -> None:
    services = compose()["services"]

    assert {"web", "worker", "scheduler", "migrate", "postgres", "redis", "mailpit"} <= set(
        services
    )
    for name in ("web", "worker", "scheduler", "postgres", "redis", "mailpit"):
        assert "healthcheck" in services[name], name
    redis = " ".join(services["redis"]["command"])
    assert "--maxmemory-policy noeviction" in redis
    assert "--appendonly yes" in redis
    for name in ("web", "worker", "scheduler", "migrate"):
        assert services[name]["command"] == [name]
        assert services[name]["depends_on"]  # after the database, and after migrate
    assert services["web"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_every_setting_compose_and_kubernetes_pass_is_one_touchpoint_reads() -> None:
    read = set(re.findall(r'"([A-Z][A-Z0-9_]+)"', (ROOT / "service" / "config.py").read_text()))
    read |= {"PORT", "WEB_CONCURRENCY", "WEB_THREADS", "WEB_TIMEOUT", "TOUCHPOINT_BIND"}
    compose_env = set(compose()["x-touchpoint"]["environment"])
    kubernetes_env = {
        key
        for doc in manifests()
        if doc["kind"] in ("ConfigMap", "Secret")
        for key in {**doc.get("data", {}), **doc.get("stringData", {})}
    }

    assert compose_env - read == set()
    assert kubernetes_env - read == set()
    for needed in ("SECRET_KEY", "TOUCHPOINT_ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL"):
        assert needed in compose_env
        assert needed in kubernetes_env


def test_the_kustomization_lists_every_manifest_and_each_one_exists() -> None:
    listed = resources()
    on_disk = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")

    assert sorted(listed) == on_disk


def test_every_kubernetes_manifest_is_valid_for_kubernetes_strictly() -> None:
    for doc in manifests():
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_a_misspelt_field_is_caught() -> None:
    web = next(doc for doc in manifests() if doc["kind"] == "Deployment")
    web["spec"]["replica"] = web["spec"].pop("replicas")

    with pytest.raises(kubernetes_validate.ValidationError, match="replica"):
        kubernetes_validate.validate(web, KUBERNETES, strict=True)


def test_kubernetes_runs_one_scheduler_at_a_time_and_probes_every_long_running_part() -> None:
    docs = {(doc["kind"], doc["metadata"]["name"]): doc for doc in manifests()}
    scheduler = docs[("Deployment", "scheduler")]["spec"]

    assert scheduler["replicas"] == 1
    assert scheduler["strategy"] == {"type": "Recreate"}
    assert docs[("Job", "migrate")]["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "migrate"
    ]
    for name in ("web", "worker", "scheduler"):
        pod = docs[("Deployment", name)]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["args"] == [name]
        assert "livenessProbe" in container
        assert container["resources"]["requests"]
        assert container["resources"]["limits"]["memory"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["securityContext"]["runAsNonRoot"] is True
    assert (
        "readinessProbe" in docs[("Deployment", "web")]["spec"]["template"]["spec"]["containers"][0]
    )


def test_the_procfile_and_the_image_use_the_one_entry_point() -> None:
    procfile = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    image = (DEPLOY / "Dockerfile").read_text()

    assert procfile["web"] == "deploy/entrypoint.sh web"
    assert procfile["worker"] == "deploy/entrypoint.sh worker"
    assert procfile["scheduler"] == "deploy/entrypoint.sh scheduler"
    assert procfile["release"] == "deploy/entrypoint.sh migrate"
    assert 'ENTRYPOINT ["/app/deploy/entrypoint.sh"]' in image
    assert "USER 10001" in image
    assert "'.[production]'" in image
    for source in re.findall(r"^COPY (?!--from)(\S+)", image, re.MULTILINE):
        assert (ROOT / source).exists(), source


def test_gunicorn_waits_longer_than_a_calendar_may_take_and_stops_within_the_grace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # restored after the test
    namespace: dict[str, Any] = {}
    code = (ROOT / "gunicorn.conf.py").read_text()
    source = code.replace("_refuse_bad_settings()\n", "")  # no settings needed to read it
    exec(compile(source, "gunicorn.conf.py", "exec"), namespace)
    fetch_and_read = 30 + Settings().budget.seconds

    assert namespace["worker_class"] == "gthread"
    assert namespace["threads"] >= 4
    assert namespace["timeout"] > fetch_and_read
    assert namespace["graceful_timeout"] < 30  # Kubernetes' default grace period


def production(tmp_path: Path, database_url: str, **changes: str) -> dict[str, str]:
    return environment(
        TOUCHPOINT_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(32),
        TOUCHPOINT_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL=database_url,
        TOUCHPOINT_BASE_URL="https://touchpoint.example",
        **changes,
    )


def entrypoint(home: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENTRYPOINT), *args],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_entry_point_migrates_and_names_what_it_cannot_run(tmp_path: Path) -> None:
    env = production(tmp_path, f"sqlite:///{tmp_path / 'touchpoint.db'}")

    migrated = entrypoint(tmp_path, "migrate", env=env)
    unknown = entrypoint(tmp_path, "serve", env=env)

    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout == "The database is up to date.\n"
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("usage: entrypoint.sh web|worker|scheduler|migrate|health")


@pytest.mark.parametrize("part", ["web", "worker", "scheduler"])
@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("SECRET_KEY", "x", "touchpoint: SECRET_KEY is too weak"),
        ("TOUCHPOINT_ENCRYPTION_KEYS", "nope", "touchpoint: TOUCHPOINT_ENCRYPTION_KEYS: key 1"),
    ],
)
def test_a_bad_setting_stops_every_part_with_one_line(
    tmp_path: Path, redis_url: str, part: str, setting: str, value: str, said: str
) -> None:
    env = production(tmp_path, f"sqlite:///{tmp_path / 'touchpoint.db'}", REDIS_URL=redis_url)
    env[setting] = value

    ran = entrypoint(tmp_path, part, env=env)

    assert ran.returncode == 2
    assert ran.stderr.startswith(said)
    assert ran.stderr.count("\n") == 1, ran.stderr  # one line, no traceback


@pytest.mark.parametrize("setting", ["WEB_THREADS", "WEB_CONCURRENCY"])
def test_a_bad_gunicorn_setting_stops_the_web_with_one_line(tmp_path: Path, setting: str) -> None:
    env = production(tmp_path, f"sqlite:///{tmp_path / 'touchpoint.db'}", **{setting: "lots"})

    ran = entrypoint(tmp_path, "web", env=env)

    assert ran.returncode == 2
    assert ran.stderr == f"touchpoint: {setting} must be a whole number of at least 1, not 'lots'\n"
