#!/usr/bin/env bash
# Build, push and roll out the API image. Usage: deploy/deploy-api.sh [tag]
set -euo pipefail

TAG="${1:-$(git rev-parse --short HEAD)}"
REGISTRY="registry.example.com/shop"

log() {
  echo "[$(date +%H:%M:%S)] $*" >&2
}

docker_login() {
  log "logging in to $REGISTRY"
  docker login registry.example.com -u ci -p "$REGISTRY_PASSWORD"
}

wait_for_rollout() {
  local deployment="$1"
  log "waiting for $deployment"
  for attempt in 1 2 3 4 5; do
    if kubectl rollout status "deployment/$deployment" --timeout=60s; then
      return 0
    fi
    log "attempt $attempt failed, retrying"
    sleep 5
  done
  return 1
}

docker_login
docker build -t "$REGISTRY/api:$TAG" services/api
docker push "$REGISTRY/api:$TAG"
kubectl set image deployment/api "api=$REGISTRY/api:$TAG"
wait_for_rollout api
