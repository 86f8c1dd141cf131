#!/usr/bin/env bash
# Deploys the GPU backend to Cloud Run from infra/cloudrun/service.yaml: by default one NVIDIA L4 per
# instance, 0..MAX_INSTANCES instances, the edge's signing secret from Secret Manager. `npm run
# deploy:backend -- <env>` runs it with every size from infra/deploy.json. Step by step in infra/README.md.
#
# Required: PROJECT_ID, REGION (a Cloud Run GPU region, e.g. us-central1 or europe-west4)
# Optional: SERVICE (edgeinfer-backend), MAX_INSTANCES (3), MIN_INSTANCES (0), GPU_TYPE (nvidia-l4),
#           GPU_COUNT (1), CPU (4), MEMORY (16Gi), CONCURRENCY (64), TIMEOUT_SECONDS (60),
#           SIGNING_SECRET_NAME (edgeinfer-edge-signing-secret),
#           SERVICE_ACCOUNT (the service's identity; the project's default compute account when unset),
#           IMAGE (deploy this pushed image instead of building one with infra/build-image.sh),
#           ALLOW_PUBLIC (1: let the edge, which has no Google identity, invoke the service; 0 to skip)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=infra/script-lib.sh
source infra/script-lib.sh

require_vars PROJECT_ID REGION
SERVICE="${SERVICE:-edgeinfer-backend}"
MAX_INSTANCES="${MAX_INSTANCES:-3}"
MIN_INSTANCES="${MIN_INSTANCES:-0}"
GPU_TYPE="${GPU_TYPE:-nvidia-l4}"
GPU_COUNT="${GPU_COUNT:-1}"
CPU="${CPU:-4}"
MEMORY="${MEMORY:-16Gi}"
CONCURRENCY="${CONCURRENCY:-64}"
TIMEOUT_SECONDS="${TIMEOUT_SECONDS:-60}"
SIGNING_SECRET_NAME="${SIGNING_SECRET_NAME:-edgeinfer-edge-signing-secret}"
if ! [[ "$MAX_INSTANCES" =~ ^[1-9][0-9]*$ ]]; then
  echo "deploy-cloudrun: MAX_INSTANCES must be a positive integer (got '$MAX_INSTANCES')" >&2
  exit 2
fi

step "Checking that secret '$SIGNING_SECRET_NAME' exists in Secret Manager"
if ! gcloud secrets describe "$SIGNING_SECRET_NAME" --project="$PROJECT_ID" >/dev/null; then
  echo "deploy-cloudrun: create it first, with the edge's EDGE_SIGNING_SECRET (32+ characters):" >&2
  echo "  printf '%s' \"\$EDGE_SIGNING_SECRET\" | gcloud secrets create $SIGNING_SECRET_NAME --project=$PROJECT_ID --data-file=-" >&2
  exit 1
fi

if [[ -z "${SERVICE_ACCOUNT:-}" ]]; then
  project_number="$(gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)')"
  SERVICE_ACCOUNT="${project_number}-compute@developer.gserviceaccount.com"
fi
step "Letting $SERVICE_ACCOUNT read the secret"
gcloud secrets add-iam-policy-binding "$SIGNING_SECRET_NAME" --project="$PROJECT_ID" \
  --member="serviceAccount:$SERVICE_ACCOUNT" --role=roles/secretmanager.secretAccessor >/dev/null

if [[ -z "${IMAGE:-}" ]]; then
  IMAGE="$(PROJECT_ID="$PROJECT_ID" REGION="$REGION" IMAGE_NAME="$SERVICE" infra/build-image.sh)"
fi

step "Rendering infra/cloudrun/service.yaml for $IMAGE"
rendered="$(mktemp "${TMPDIR:-/tmp}/edgeinfer-service.XXXXXX")"
trap 'rm -f "$rendered"' EXIT
sed \
  -e "s|\${SERVICE}|$SERVICE|g" \
  -e "s|\${REGION}|$REGION|g" \
  -e "s|\${IMAGE}|$IMAGE|g" \
  -e "s|\${MAX_INSTANCES}|$MAX_INSTANCES|g" \
  -e "s|\${MIN_INSTANCES}|$MIN_INSTANCES|g" \
  -e "s|\${GPU_TYPE}|$GPU_TYPE|g" \
  -e "s|\${GPU_COUNT}|$GPU_COUNT|g" \
  -e "s|\${CPU}|$CPU|g" \
  -e "s|\${MEMORY}|$MEMORY|g" \
  -e "s|\${CONCURRENCY}|$CONCURRENCY|g" \
  -e "s|\${TIMEOUT_SECONDS}|$TIMEOUT_SECONDS|g" \
  -e "s|\${PROJECT_ID}|$PROJECT_ID|g" \
  -e "s|\${SIGNING_SECRET_NAME}|$SIGNING_SECRET_NAME|g" \
  -e "s|\${SERVICE_ACCOUNT}|$SERVICE_ACCOUNT|g" \
  infra/cloudrun/service.yaml >"$rendered"
if grep -n '\${' "$rendered" >&2; then
  echo "deploy-cloudrun: service.yaml has placeholders this script does not fill (above)" >&2
  exit 1
fi

step "Deploying $SERVICE to Cloud Run in $REGION ($GPU_COUNT x $GPU_TYPE, $MIN_INSTANCES..$MAX_INSTANCES instances)"
gcloud run services replace "$rendered" --project="$PROJECT_ID" --region="$REGION"

if [[ "${ALLOW_PUBLIC:-1}" == 1 ]]; then
  # The edge (a Cloudflare Worker) holds no Google identity: the backend's HMAC check is the guard.
  step "Allowing unauthenticated invocations; inference routes still require the edge's signature"
  gcloud run services add-iam-policy-binding "$SERVICE" --project="$PROJECT_ID" --region="$REGION" \
    --member=allUsers --role=roles/run.invoker >/dev/null
fi

url="$(gcloud run services describe "$SERVICE" --project="$PROJECT_ID" --region="$REGION" --format='value(status.url)')"
step "Deployed $SERVICE at $url"
echo "Point the edge at it (its backend URL) and check readiness (the first call starts an instance):" >&2
echo "  curl -fsS $url/v2/health/ready" >&2
