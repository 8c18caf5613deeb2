"""Render the AWS deployment files from the environment, and check them against the AWS APIs.

    python deploy/render.py --out var/deploy      # AWS_ACCOUNT_ID, AWS_REGION, IMAGE_TAG, ...
    python deploy/render.py --example --validate  # example values; what CI runs

Templates are the JSON (and YAML) files under deploy/ecs/templates and deploy/apprunner/templates,
each the input of one AWS API call (see OPERATIONS). `${NAME}` is replaced from the environment
(or DEFAULTS); a list holding only `"${NAME_IDS}"` becomes the comma-separated value's items. A
variable that is neither set nor defaulted stops the render with its name, so an image tag,
account or region is never hand-edited into a file. `--validate` checks each rendered input
against botocore's shape for its operation (the AWS CLI's own parameter validation, offline).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

DEPLOY = Path(__file__).resolve().parent
TEMPLATE_DIRS = (DEPLOY / "ecs" / "templates", DEPLOY / "apprunner" / "templates")

# template file -> (botocore service, operation whose input it is)
OPERATIONS: dict[str, tuple[str, str]] = {
    "task-web.json": ("ecs", "RegisterTaskDefinition"),
    "task-worker.json": ("ecs", "RegisterTaskDefinition"),
    "task-beat.json": ("ecs", "RegisterTaskDefinition"),
    "task-migrate.json": ("ecs", "RegisterTaskDefinition"),
    "service-web.json": ("ecs", "CreateService"),
    "service-worker.json": ("ecs", "CreateService"),
    "service-beat.json": ("ecs", "CreateService"),
    "target-group-web-blue.json": ("elbv2", "CreateTargetGroup"),
    "target-group-web-green.json": ("elbv2", "CreateTargetGroup"),
    "target-group-web-attributes.json": ("elbv2", "ModifyTargetGroupAttributes"),
    "load-balancer-attributes.json": ("elbv2", "ModifyLoadBalancerAttributes"),
    "scaling-web-target.json": ("application-autoscaling", "RegisterScalableTarget"),
    "scaling-worker-target.json": ("application-autoscaling", "RegisterScalableTarget"),
    "scaling-web-cpu.json": ("application-autoscaling", "PutScalingPolicy"),
    "scaling-web-requests.json": ("application-autoscaling", "PutScalingPolicy"),
    "scaling-worker-backlog.json": ("application-autoscaling", "PutScalingPolicy"),
    "codedeploy-web-deployment-group.json": ("codedeploy", "CreateDeploymentGroup"),
    "service.json": ("apprunner", "CreateService"),
}

DEFAULTS = {
    "APP_NAME": "enterprise-suite",
    "ENVIRONMENT": "production",
    "ECR_REPOSITORY": "enterprise-suite",
    "CLUSTER": "enterprise-suite",
    "METRICS_NAMESPACE": "EnterpriseSuite",
    "CELERY_QUEUES": "default",
    "WEB_CPU": "1024",
    "WEB_MEMORY": "2048",
    "WORKER_CPU": "1024",
    "WORKER_MEMORY": "2048",
    "WORKER_CONCURRENCY": "2",
}
# Derived from the others unless set.
DERIVED = {
    "IMAGE": "${AWS_ACCOUNT_ID}.dkr.ecr.${AWS_REGION}.amazonaws.com/${ECR_REPOSITORY}:${IMAGE_TAG}",
}

# Plausible values, for CI and for reading what a render produces.
_ELB = "arn:aws:elasticloadbalancing:eu-west-1:123456789012"
_ALB = "app/enterprise-suite/50dc6c495c0c9188"
_BLUE = "targetgroup/enterprise-suite-production-web-blue/73e2d6bc24d8a067"
EXAMPLE = {
    "AWS_ACCOUNT_ID": "123456789012",
    "AWS_REGION": "eu-west-1",
    "IMAGE_TAG": "0123abc",
    "ALLOWED_HOSTS": "api.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://api.example.com",
    "MEDIA_BUCKET": "enterprise-suite-media",
    "VPC_ID": "vpc-0a1b2c3d4e5f60718",
    "PRIVATE_SUBNET_IDS": "subnet-0a1b2c3d4e5f60718,subnet-0f1e2d3c4b5a69788",
    "APP_SECURITY_GROUP_IDS": "sg-0a1b2c3d4e5f60718",
    "LOAD_BALANCER_ARN": f"{_ELB}:loadbalancer/{_ALB}",
    "WEB_TARGET_GROUP_BLUE_ARN": f"{_ELB}:{_BLUE}",
    "WEB_TARGET_GROUP_RESOURCE_LABEL": f"{_ALB}/{_BLUE}",
    "HTTPS_LISTENER_ARN": f"{_ELB}:listener/{_ALB}/f2f7dc8efc522ab2",
    "TEST_LISTENER_ARN": f"{_ELB}:listener/{_ALB}/0467ef3c8400ae65",
    "APPRUNNER_VPC_CONNECTOR_ARN": (
        "arn:aws:apprunner:eu-west-1:123456789012:vpcconnector/enterprise-suite/1/a1b2c3d4e5f6"
    ),
    "WEB_TASK_DEFINITION_ARN": (
        "arn:aws:ecs:eu-west-1:123456789012:task-definition/enterprise-suite-production-web:42"
    ),
}

_LIST_PLACEHOLDER = re.compile(r"^\$\{([A-Z0-9_]+_IDS)\}$")


class RenderError(Exception):
    """A template needs a variable that is not set, or renders to an invalid input."""


@dataclass
class Rendered:
    name: str
    text: str
    body: Any  # the parsed input (None for YAML)


def variables(environ: Mapping[str, str]) -> dict[str, str]:
    values = {**DEFAULTS, **{k: v for k, v in environ.items() if v != ""}}
    for name, pattern in DERIVED.items():
        if name not in values:
            try:
                values[name] = Template(pattern).substitute(values)
            except KeyError:
                continue  # reported as missing where a template uses it
    return values


def _substitute(value: Any, values: Mapping[str, str], missing: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, values, missing) for k, v in value.items()}
    if isinstance(value, list):
        items: list[Any] = []
        for item in value:
            match = _LIST_PLACEHOLDER.match(item) if isinstance(item, str) else None
            if match:
                raw = values.get(match.group(1))
                if raw is None:
                    missing.add(match.group(1))
                    continue
                items.extend(part.strip() for part in raw.split(",") if part.strip())
            else:
                items.append(_substitute(item, values, missing))
        return items
    if isinstance(value, str):
        template = Template(value)
        missing.update(name for name in template.get_identifiers() if name not in values)
        return template.safe_substitute(values)
    return value


def render(environ: Mapping[str, str]) -> list[Rendered]:
    values = variables(environ)
    missing: set[str] = set()
    rendered = []
    for directory in TEMPLATE_DIRS:
        for path in sorted(directory.iterdir()):
            if path.suffix == ".json":
                body = _substitute(json.loads(path.read_text()), values, missing)
                rendered.append(Rendered(path.name, json.dumps(body, indent=2) + "\n", body))
            elif path.suffix in {".yaml", ".yml"}:
                template = Template(path.read_text())
                missing.update(n for n in template.get_identifiers() if n not in values)
                rendered.append(Rendered(path.name, template.safe_substitute(values), None))
    for name in sorted(missing & set(DERIVED)):
        # Name what to set, not the derived variable (IMAGE_TAG, not IMAGE).
        missing.discard(name)
        missing.update(n for n in Template(DERIVED[name]).get_identifiers() if n not in values)
    if missing:
        raise RenderError(f"set these variables (environment): {', '.join(sorted(missing))}")
    return rendered


def validate(rendered: list[Rendered]) -> list[str]:
    """Every problem botocore's parameter validation finds, as `file: message` lines."""
    import botocore.session
    from botocore.validate import ParamValidator

    session = botocore.session.get_session()
    validator = ParamValidator()
    problems = []
    for item in rendered:
        if item.body is None:
            continue
        if item.name not in OPERATIONS:
            problems.append(f"{item.name}: no AWS operation is mapped to this template")
            continue
        service, operation = OPERATIONS[item.name]
        model = session.get_service_model(service).operation_model(operation)
        report = validator.validate(item.body, model.input_shape)
        if report.has_errors():
            problems.append(f"{item.name} ({service} {operation}):\n{report.generate_report()}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write the rendered files here")
    parser.add_argument("--example", action="store_true", help="fill unset variables with examples")
    parser.add_argument("--validate", action="store_true", help="check inputs against botocore")
    args = parser.parse_args(argv)
    environ = {**EXAMPLE, **os.environ} if args.example else dict(os.environ)
    try:
        rendered = render(environ)
    except RenderError as exc:
        print(f"render: {exc}", file=sys.stderr)
        return 2
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for item in rendered:
            (args.out / item.name).write_text(item.text)
        print(f"rendered {len(rendered)} files into {args.out}")
    if args.validate:
        problems = validate(rendered)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            return 1
        print(f"{sum(1 for r in rendered if r.body is not None)} inputs valid for their AWS calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
