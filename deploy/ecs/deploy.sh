#!/usr/bin/env bash
# Deploy one image tag to ECS: render the files, register the task definitions, migrate, then
# roll the services (web by CodeDeploy blue/green, worker rolling, beat stop-then-start).
# The one-time setup (cluster, ALB, target groups, CodeDeploy, scaling) is in README.md.
#   AWS_ACCOUNT_ID=... AWS_REGION=... IMAGE_TAG=$(git rev-parse --short HEAD) deploy/ecs/deploy.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${AWS_ACCOUNT_ID:?}" "${AWS_REGION:?}" "${IMAGE_TAG:?}"
APP_NAME=${APP_NAME:-enterprise-suite}
ENVIRONMENT=${ENVIRONMENT:-production}
CLUSTER=${CLUSTER:-enterprise-suite}
PREFIX="$APP_NAME-$ENVIRONMENT"
OUT=var/deploy/$IMAGE_TAG
PYTHON=${PYTHON:-.venv/bin/python}

echo "== render and validate"
# The appspec needs the web task definition's ARN, known after registration: a placeholder
# now, rendered again below.
WEB_TASK_DEFINITION_ARN=pending "$PYTHON" deploy/render.py --out "$OUT" --validate

register() {
  aws ecs register-task-definition --cli-input-json "file://$OUT/task-$1.json" \
    --query taskDefinition.taskDefinitionArn --output text
}
echo "== register task definitions"
WEB_ARN=$(register web)
WORKER_ARN=$(register worker)
BEAT_ARN=$(register beat)
MIGRATE_ARN=$(register migrate)
echo "web $WEB_ARN"; echo "worker $WORKER_ARN"; echo "beat $BEAT_ARN"; echo "migrate $MIGRATE_ARN"

echo "== migrate (one-off task) and sync the scheduled jobs"
NETWORK=$(jq -c '.networkConfiguration' "$OUT/service-worker.json")
TASK=$(aws ecs run-task --cluster "$CLUSTER" --task-definition "$MIGRATE_ARN" \
  --launch-type FARGATE --network-configuration "$NETWORK" \
  --query 'tasks[0].taskArn' --output text)
aws ecs wait tasks-stopped --cluster "$CLUSTER" --tasks "$TASK"
EXIT=$(aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK" \
  --query 'tasks[0].containers[0].exitCode' --output text)
[ "$EXIT" = "0" ] || { echo "migrate failed (exit $EXIT); nothing else was changed"; exit 1; }

echo "== worker and beat"
aws ecs update-service --cluster "$CLUSTER" --service "$PREFIX-worker" \
  --task-definition "$WORKER_ARN" >/dev/null
aws ecs update-service --cluster "$CLUSTER" --service "$PREFIX-beat" \
  --task-definition "$BEAT_ARN" >/dev/null

echo "== web (blue/green through CodeDeploy)"
WEB_TASK_DEFINITION_ARN=$WEB_ARN "$PYTHON" deploy/render.py --out "$OUT"
APPSPEC=$(jq -Rs '{revisionType: "AppSpecContent", appSpecContent: {content: .}}' "$OUT/appspec-web.yaml")
DEPLOYMENT=$(aws deploy create-deployment --application-name "$PREFIX" \
  --deployment-group-name "$PREFIX-web" --revision "$APPSPEC" \
  --query deploymentId --output text)
echo "CodeDeploy deployment $DEPLOYMENT"
aws deploy wait deployment-successful --deployment-id "$DEPLOYMENT"
aws ecs wait services-stable --cluster "$CLUSTER" --services "$PREFIX-worker" "$PREFIX-beat"
echo "== deployed $IMAGE_TAG"
