#!/usr/bin/env bash
# Build, push and roll out the web image. Copied from deploy-api.sh.
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
  log "waiting for $deployment to become ready"
  for attempt in 1 2 3 4 5 6; do
    if kubectl rollout status "deployment/$deployment" --timeout=90s; then
      return 0
    fi
    log "attempt $attempt failed, retrying"
    sleep 5
  done
  return 1
}

docker_login
npm ci --prefix services/web
docker build -t "$REGISTRY/web:$TAG" services/web
docker push "$REGISTRY/web:$TAG"
kubectl set image deployment/web "web=$REGISTRY/web:$TAG"
wait_for_rollout web
