"""The deployment files, checked without a Docker engine or an AWS account: the ECS, ALB,
autoscaling, CodeDeploy and App Runner inputs against botocore's shapes for their API calls;
the Dockerfile with hadolint; both compose files with the compose binary; Prometheus's config
and rules with promtool (when installed: CI installs it)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from conftest import ROOT

BIN = Path(sys.executable).parent


def _compose_binary() -> str:
    # The Go binary itself: the package's `docker-compose` wrapper exits 0 whatever it finds.
    import compose

    return str(Path(compose.__file__).parent / "docker-compose")


def _load_render() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_render", ROOT / "deploy" / "render.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["deploy_render"] = module
    spec.loader.exec_module(module)
    return module


render = _load_render()


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    return {item.name: item for item in render.render(render.EXAMPLE)}


def test_every_template_is_a_valid_input_for_its_aws_call(rendered: dict[str, Any]) -> None:
    inputs = [item for item in rendered.values() if item.body is not None]
    assert {item.name for item in inputs} == set(render.OPERATIONS)
    assert render.validate(inputs) == []


def test_an_invalid_input_is_reported(rendered: dict[str, Any]) -> None:
    task = rendered["task-web.json"]
    broken = render.Rendered(
        task.name, task.text, {**task.body, "cpu": 1024, "containerDefinition": []}
    )
    [problem] = render.validate([broken])
    assert "task-web.json" in problem
    assert "cpu" in problem  # wrong type
    assert "containerDefinition" in problem  # unknown parameter


def test_a_missing_variable_stops_the_render_naming_it() -> None:
    environ = {k: v for k, v in render.EXAMPLE.items() if k not in {"IMAGE_TAG", "VPC_ID"}}
    with pytest.raises(render.RenderError, match="IMAGE_TAG, VPC_ID"):
        render.render(environ)
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "render.py")],
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "AWS_ACCOUNT_ID" in result.stderr


def test_one_image_three_roles_with_secrets_from_arns(rendered: dict[str, Any]) -> None:
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/enterprise-suite:0123abc"
    commands = {}
    for role in ("web", "worker", "beat", "migrate"):
        [container] = rendered[f"task-{role}.json"].body["containerDefinitions"]
        assert container["image"] == image
        commands[role] = container["command"]
        plain = {e["name"] for e in container["environment"]}
        secret = {s["name"]: s["valueFrom"] for s in container["secrets"]}
        assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= set(secret)
        assert not plain & {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"}
        assert all(
            v.startswith(("arn:aws:secretsmanager:", "arn:aws:ssm:")) for v in secret.values()
        )
        assert container["logConfiguration"]["logDriver"] == "awslogs"
        assert container["linuxParameters"]["initProcessEnabled"] is True
    assert commands == {
        "web": ["web"],
        "worker": ["worker"],
        "beat": ["beat"],
        "migrate": ["migrate"],
    }


def test_beat_never_runs_twice_and_web_deploys_blue_green(rendered: dict[str, Any]) -> None:
    beat = rendered["service-beat.json"].body
    assert beat["desiredCount"] == 1
    assert beat["deploymentConfiguration"]["maximumPercent"] == 100
    assert beat["deploymentConfiguration"]["minimumHealthyPercent"] == 0
    web = rendered["service-web.json"].body
    assert web["deploymentController"] == {"type": "CODE_DEPLOY"}
    assert web["loadBalancers"][0]["containerPort"] == 8000
    assert web["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == [
        "subnet-0a1b2c3d4e5f60718",
        "subnet-0f1e2d3c4b5a69788",
    ]
    appspec = yaml.safe_load(rendered["appspec-web.yaml"].text)
    target = appspec["Resources"][0]["TargetService"]["Properties"]
    assert target["TaskDefinition"].endswith("task-definition/enterprise-suite-production-web:42")
    attributes = {
        a["Key"]: a["Value"]
        for a in rendered["target-group-web-attributes.json"].body["Attributes"]
    }
    assert int(attributes["deregistration_delay.timeout_seconds"]) >= 25  # WEB_DRAIN_SECONDS
    idle = rendered["load-balancer-attributes.json"].body["Attributes"][0]
    assert idle["Key"] == "idle_timeout.timeout_seconds"
    assert int(idle["Value"]) > 25  # longer than the WebSocket heartbeat


def test_workers_scale_on_backlog_per_task(rendered: dict[str, Any]) -> None:
    policy = rendered["scaling-worker-backlog.json"].body
    metrics = policy["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"]
    names = {
        m["MetricStat"]["Metric"]["MetricName"] for m in metrics["Metrics"] if "MetricStat" in m
    }
    assert names == {"CeleryQueueDepth", "RunningTaskCount"}  # the first is ours
    [expression] = [m for m in metrics["Metrics"] if m.get("ReturnData")]
    assert expression["Expression"].startswith("depth / ")


def _run(*command: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    result = _run(str(BIN / "hadolint"), "--failure-threshold", "style", "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("compose_file", ["compose.yaml", "compose.prod.yaml"])
def test_compose_files_are_valid(compose_file: str) -> None:
    result = _run(
        _compose_binary(),
        "-f",
        compose_file,
        "config",
        "--quiet",
        SECRET_KEY="x" * 50,
        GRAFANA_ADMIN_PASSWORD="x",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_compose_check_fails_on_an_invalid_file(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yaml"
    bad.write_text("services:\n  web:\n    image: x\n    restart_policy: always\n")
    result = _run(_compose_binary(), "-f", str(bad), "config", "--quiet")
    assert result.returncode == 1
    assert "additional properties 'restart_policy' not allowed" in result.stderr


def test_compose_prod_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [_compose_binary(), "-f", "compose.prod.yaml", "config", "--quiet"],
        cwd=ROOT,
        env={**env, "GRAFANA_ADMIN_PASSWORD": "x"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_promtool_accepts_the_config_and_rules() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is not installed (apt package prometheus)")
        pytest.skip("promtool is not installed (apt package prometheus)")
    config = _run(promtool, "check", "config", "deploy/prometheus/prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr
    rules = _run(promtool, "check", "rules", "deploy/prometheus/alerts.yml")
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert "SUCCESS: 7 rules found" in rules.stdout
