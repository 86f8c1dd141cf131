#!/usr/bin/env bash
# Deploys the GPU backend to Cloud Run from infra/cloudrun/service.yaml: by default one NVIDIA L4 per
# instance, 0..MAX_INSTANCES instances, the edge's signing secret and the metrics token from Secret
# Manager, and only the edge's invoker service account allowed to call it. `npm run deploy:backend --
# <env>` runs it with every size from infra/deploy.json. Step by step in infra/README.md.
#
# Required: PROJECT_ID, REGION (a Cloud Run GPU region, e.g. us-central1 or europe-west4)
# Optional: SERVICE (edgeinfer-backend), MAX_INSTANCES (3), MIN_INSTANCES (0), GPU_TYPE (nvidia-l4),
#           GPU_COUNT (1), CPU (4), MEMORY (16Gi), CONCURRENCY (64), TIMEOUT_SECONDS (60),
#           SIGNING_SECRET_NAME (edgeinfer-edge-signing-secret),
#           METRICS_SECRET_NAME (edgeinfer-metrics-token; created with a random value when missing),
#           SERVICE_ACCOUNT (the service's identity; the project's default compute account when unset),
#           EDGE_INVOKER_SA (the account the edge calls as; edgeinfer-edge@PROJECT_ID.iam.gserviceaccount.com,
#           created when missing), IMAGE (deploy this pushed image instead of building one with infra/build-image.sh),
#           ALLOW_PUBLIC (0; 1 lets anyone invoke the service, the edge's signature then being the only guard)
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
METRICS_SECRET_NAME="${METRICS_SECRET_NAME:-edgeinfer-metrics-token}"
EDGE_INVOKER_SA="${EDGE_INVOKER_SA:-edgeinfer-edge@${PROJECT_ID}.iam.gserviceaccount.com}"
ALLOW_PUBLIC="${ALLOW_PUBLIC:-0}"
if ! [[ "$MAX_INSTANCES" =~ ^[1-9][0-9]*$ ]]; then
  echo "deploy-cloudrun: MAX_INSTANCES must be a positive integer (got '$MAX_INSTANCES')" >&2
  exit 2
fi
if ! [[ "$ALLOW_PUBLIC" =~ ^[01]$ ]]; then
  echo "deploy-cloudrun: ALLOW_PUBLIC must be 0 or 1 (got '$ALLOW_PUBLIC')" >&2
  exit 2
fi

step "Checking that secret '$SIGNING_SECRET_NAME' exists in Secret Manager"
if ! gcloud secrets describe "$SIGNING_SECRET_NAME" --project="$PROJECT_ID" >/dev/null; then
  echo "deploy-cloudrun: create it first, with the edge's EDGE_SIGNING_SECRET (32+ characters):" >&2
  echo "  printf '%s' \"\$EDGE_SIGNING_SECRET\" | gcloud secrets create $SIGNING_SECRET_NAME --project=$PROJECT_ID --data-file=-" >&2
  exit 1
fi

step "Checking that secret '$METRICS_SECRET_NAME' (the bearer token GET /metrics needs) exists"
if ! gcloud secrets describe "$METRICS_SECRET_NAME" --project="$PROJECT_ID" >/dev/null 2>&1; then
  # 32 random bytes as hex; read it back with `gcloud secrets versions access latest --secret=...`.
  od -An -tx1 -N32 /dev/urandom | tr -d ' \n' |
    gcloud secrets create "$METRICS_SECRET_NAME" --project="$PROJECT_ID" --data-file=- >/dev/null
  echo "created it with a random token" >&2
fi

if [[ -z "${SERVICE_ACCOUNT:-}" ]]; then
  project_number="$(gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)')"
  SERVICE_ACCOUNT="${project_number}-compute@developer.gserviceaccount.com"
fi
step "Letting $SERVICE_ACCOUNT read the secrets"
for secret in "$SIGNING_SECRET_NAME" "$METRICS_SECRET_NAME"; do
  gcloud secrets add-iam-policy-binding "$secret" --project="$PROJECT_ID" \
    --member="serviceAccount:$SERVICE_ACCOUNT" --role=roles/secretmanager.secretAccessor >/dev/null
done

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
  -e "s|\${METRICS_SECRET_NAME}|$METRICS_SECRET_NAME|g" \
  -e "s|\${SERVICE_ACCOUNT}|$SERVICE_ACCOUNT|g" \
  infra/cloudrun/service.yaml >"$rendered"
if grep -n '\${' "$rendered" >&2; then
  echo "deploy-cloudrun: service.yaml has placeholders this script does not fill (above)" >&2
  exit 1
fi

step "Deploying $SERVICE to Cloud Run in $REGION ($GPU_COUNT x $GPU_TYPE, $MIN_INSTANCES..$MAX_INSTANCES instances)"
gcloud run services replace "$rendered" --project="$PROJECT_ID" --region="$REGION"

if [[ "$ALLOW_PUBLIC" == 1 ]]; then
  # For an organisation that forbids service account keys: anyone reaches the container (and wakes an
  # instance); every request but GET health and metadata is refused there unless the edge signed it.
  step "Allowing unauthenticated invocations; the backend refuses anything the edge did not sign"
  gcloud run services add-iam-policy-binding "$SERVICE" --project="$PROJECT_ID" --region="$REGION" \
    --member=allUsers --role=roles/run.invoker >/dev/null
else
  # Cloud Run's front end refuses a request without a Google-signed ID token from an invoker before any
  # instance sees it (or is started for it); the edge mints one from the invoker's key.
  step "Allowing only $EDGE_INVOKER_SA to invoke $SERVICE"
  if ! gcloud iam service-accounts describe "$EDGE_INVOKER_SA" --project="$PROJECT_ID" >/dev/null 2>&1; then
    gcloud iam service-accounts create "${EDGE_INVOKER_SA%%@*}" --project="$PROJECT_ID" \
      --display-name="edgeinfer edge (invokes the GPU backend)" >/dev/null
  fi
  gcloud run services add-iam-policy-binding "$SERVICE" --project="$PROJECT_ID" --region="$REGION" \
    --member="serviceAccount:$EDGE_INVOKER_SA" --role=roles/run.invoker >/dev/null
  # A public grant left by an earlier deploy would let everyone in again.
  gcloud run services remove-iam-policy-binding "$SERVICE" --project="$PROJECT_ID" --region="$REGION" \
    --member=allUsers --role=roles/run.invoker >/dev/null 2>&1 || true
fi

url="$(gcloud run services describe "$SERVICE" --project="$PROJECT_ID" --region="$REGION" --format='value(status.url)')"
step "Deployed $SERVICE at $url"
echo "Point the edge at it: BACKEND_URL=$url (wrangler.toml [vars]), then redeploy the Worker." >&2
if [[ "$ALLOW_PUBLIC" != 1 ]]; then
  echo "Give the edge the invoker's key (once; keep no copy of the file):" >&2
  echo "  gcloud iam service-accounts keys create edge-invoker.json --iam-account=$EDGE_INVOKER_SA --project=$PROJECT_ID" >&2
  echo "  npx wrangler secret put BACKEND_SERVICE_ACCOUNT_KEY < edge-invoker.json && rm edge-invoker.json" >&2
  echo "Check readiness as the invoker (the first call starts an instance):" >&2
  echo "  curl -fsS -H \"Authorization: Bearer \$(gcloud auth print-identity-token)\" $url/v2/health/ready" >&2
else
  echo "Check readiness (the first call starts an instance): curl -fsS $url/v2/health/ready" >&2
fi
