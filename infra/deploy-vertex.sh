#!/usr/bin/env bash
# Deploys the GPU backend to a Vertex AI endpoint: uploads the image as a model (its health and predict
# routes, port 8080), creates the endpoint on first use, and deploys onto a g2-standard-8 with one
# NVIDIA L4. A second deploy to the same endpoint is a canary: it gets CANARY_PERCENT of the traffic.
# Step by step in infra/README.md.
#
# Required: PROJECT_ID, REGION (a Vertex AI region with L4s, e.g. us-central1)
# Optional: ENDPOINT_NAME (edgeinfer-backend), MODEL_NAME (edgeinfer-backend; each deploy uploads
#           MODEL_NAME-TAG), VERTEX_MODEL (the model /predict runs when a request names none),
#           MACHINE_TYPE (g2-standard-8), MIN_REPLICAS (1), MAX_REPLICAS (2),
#           CANARY_PERCENT (traffic for the new version when the endpoint already serves one; 10),
#           STABLE_DEPLOYED_MODEL_ID (the deployed model keeping the rest; found when there is only one),
#           IMAGE (deploy this pushed image instead of building one with infra/build-image.sh), TAG
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=infra/script-lib.sh
source infra/script-lib.sh

require_vars PROJECT_ID REGION
ENDPOINT_NAME="${ENDPOINT_NAME:-edgeinfer-backend}"
MODEL_NAME="${MODEL_NAME:-edgeinfer-backend}"
MACHINE_TYPE="${MACHINE_TYPE:-g2-standard-8}"
MIN_REPLICAS="${MIN_REPLICAS:-1}"
MAX_REPLICAS="${MAX_REPLICAS:-2}"
CANARY_PERCENT="${CANARY_PERCENT:-10}"
TAG="${TAG:-$(git rev-parse --short HEAD 2>/dev/null || date +%Y%m%d%H%M%S)}"
[[ "$MIN_REPLICAS" =~ ^[1-9][0-9]*$ ]] || fail "MIN_REPLICAS must be a positive integer (got '$MIN_REPLICAS')"
[[ "$MAX_REPLICAS" =~ ^[1-9][0-9]*$ && "$MAX_REPLICAS" -ge "$MIN_REPLICAS" ]] || fail "MAX_REPLICAS must be an integer >= MIN_REPLICAS (got '$MAX_REPLICAS')"
[[ "$CANARY_PERCENT" =~ ^[0-9]+$ && "$CANARY_PERCENT" -ge 1 && "$CANARY_PERCENT" -le 100 ]] || fail "CANARY_PERCENT must be 1..100 (got '$CANARY_PERCENT')"
# Vertex model IDs: lower-case letters, digits, '-' and '_', starting with a letter, at most 63 characters.
MODEL_ID="$(printf '%s-%s' "$MODEL_NAME" "$TAG" | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9_\n-' '-' | cut -c1-63)"
[[ "$MODEL_ID" =~ ^[a-z] ]] || fail "MODEL_NAME must start with a letter (model ID would be '$MODEL_ID')"

if [[ -z "${IMAGE:-}" ]]; then
  IMAGE="$(PROJECT_ID="$PROJECT_ID" REGION="$REGION" TAG="$TAG" infra/build-image.sh)"
fi

# Vertex calls the container on its own routes and rewrites the path, so the edge's path-bound HMAC
# cannot verify there; a Vertex endpoint is reached only with a Google token holding
# aiplatform.endpoints.predict, which takes the signature's place.
env_vars="EDGE_SIGNATURE_REQUIRED=false"
if [[ -n "${VERTEX_MODEL:-}" ]]; then env_vars="$env_vars,VERTEX_MODEL=$VERTEX_MODEL"; fi

step "Uploading model $MODEL_ID ($IMAGE)"
gcloud ai models upload --project="$PROJECT_ID" --region="$REGION" \
  --model-id="$MODEL_ID" --display-name="$MODEL_ID" \
  --container-image-uri="$IMAGE" \
  --container-ports=8080 \
  --container-health-route=/health \
  --container-predict-route=/predict \
  --container-env-vars="$env_vars"

endpoint_id() {
  gcloud ai endpoints list --project="$PROJECT_ID" --region="$REGION" \
    --filter="display_name=$ENDPOINT_NAME" --format='value(name)' | head -n1 | sed 's|.*/||'
}
ENDPOINT_ID="$(endpoint_id)"
if [[ -z "$ENDPOINT_ID" ]]; then
  step "Creating endpoint $ENDPOINT_NAME"
  gcloud ai endpoints create --project="$PROJECT_ID" --region="$REGION" --display-name="$ENDPOINT_NAME"
  ENDPOINT_ID="$(endpoint_id)"
  [[ -n "$ENDPOINT_ID" ]] || fail "endpoint $ENDPOINT_NAME was created but cannot be listed yet; run again"
fi

deployed_ids() {
  gcloud ai endpoints describe "$ENDPOINT_ID" --project="$PROJECT_ID" --region="$REGION" \
    --format='value(deployedModels[].id)' | tr ';' '\n' | sed '/^$/d'
}
previous="$(deployed_ids)"
if [[ -z "$previous" ]]; then
  traffic="0=100"
  step "Deploying $MODEL_ID to endpoint $ENDPOINT_ID with all traffic"
else
  stable="${STABLE_DEPLOYED_MODEL_ID:-}"
  if [[ -z "$stable" ]]; then
    [[ "$(wc -l <<<"$previous")" -eq 1 ]] || fail "endpoint $ENDPOINT_ID serves several deployed models ($(tr '\n' ' ' <<<"$previous")); set STABLE_DEPLOYED_MODEL_ID to the one keeping the traffic"
    stable="$previous"
  fi
  # In --traffic-split, 0 stands for the model being deployed.
  traffic="0=$CANARY_PERCENT"
  if [[ "$CANARY_PERCENT" -lt 100 ]]; then traffic="$traffic,$stable=$((100 - CANARY_PERCENT))"; fi
  step "Deploying $MODEL_ID to endpoint $ENDPOINT_ID as a canary: $CANARY_PERCENT% new, $((100 - CANARY_PERCENT))% to deployed model $stable"
fi

gcloud ai endpoints deploy-model "$ENDPOINT_ID" --project="$PROJECT_ID" --region="$REGION" \
  --model="$MODEL_ID" --display-name="$MODEL_ID" \
  --machine-type="$MACHINE_TYPE" \
  --accelerator=type=nvidia-l4,count=1 \
  --min-replica-count="$MIN_REPLICAS" --max-replica-count="$MAX_REPLICAS" \
  --traffic-split="$traffic"

new_id="$(comm -13 <(sort <<<"$previous") <(deployed_ids | sort) | head -n1)"
step "Deployed model $new_id on endpoint $ENDPOINT_ID"
echo "Predict (Vertex's contract; instances are batch rows):" >&2
echo "  curl -fsS -H \"Authorization: Bearer \$(gcloud auth print-access-token)\" -H 'content-type: application/json' \\" >&2
echo "    https://$REGION-aiplatform.googleapis.com/v1/projects/$PROJECT_ID/locations/$REGION/endpoints/$ENDPOINT_ID:predict -d @request.json" >&2
if [[ -n "$previous" ]]; then
  where="$ENDPOINT_ID --project=$PROJECT_ID --region=$REGION"
  echo "Promote the canary and retire the old version:" >&2
  echo "  gcloud ai endpoints update $where --traffic-split=$new_id=100" >&2
  echo "  gcloud ai endpoints undeploy-model $where --deployed-model-id=$stable" >&2
  echo "Or roll it back:" >&2
  echo "  gcloud ai endpoints update $where --traffic-split=$stable=100" >&2
  echo "  gcloud ai endpoints undeploy-model $where --deployed-model-id=$new_id" >&2
fi
