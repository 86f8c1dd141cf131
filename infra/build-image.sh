#!/usr/bin/env bash
# Builds infra/Dockerfile with Cloud Build and pushes it to Artifact Registry, creating the repository
# on first use. Prints nothing but progress on stderr and, last on stdout, the image it pushed.
# Used by deploy-cloudrun.sh and deploy-vertex.sh; runnable alone.
#
# Required: PROJECT_ID, REGION
# Optional: REPOSITORY (edgeinfer), IMAGE_NAME (edgeinfer-backend), TAG (git short hash, else a timestamp)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=infra/script-lib.sh
source infra/script-lib.sh

require_vars PROJECT_ID REGION
REPOSITORY="${REPOSITORY:-edgeinfer}"
IMAGE_NAME="${IMAGE_NAME:-edgeinfer-backend}"
TAG="${TAG:-$(git rev-parse --short HEAD 2>/dev/null || date +%Y%m%d%H%M%S)}"
IMAGE="${REGION}-docker.pkg.dev/${PROJECT_ID}/${REPOSITORY}/${IMAGE_NAME}:${TAG}"

echo "==> Ensuring Artifact Registry repository '$REPOSITORY' in $REGION" >&2
if ! gcloud artifacts repositories describe "$REPOSITORY" --project="$PROJECT_ID" --location="$REGION" >/dev/null 2>&1; then
  gcloud artifacts repositories create "$REPOSITORY" --project="$PROJECT_ID" --location="$REGION" \
    --repository-format=docker >&2
fi

echo "==> Building and pushing $IMAGE with Cloud Build (infra/cloudbuild.yaml)" >&2
gcloud builds submit --project="$PROJECT_ID" --config=infra/cloudbuild.yaml \
  --substitutions="_IMAGE=$IMAGE" . >&2

echo "$IMAGE"
