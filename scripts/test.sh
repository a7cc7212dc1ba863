#!/usr/bin/env bash
# Install what the tests need, start the Docker engine, lint, type-check and run the whole suite.
# This is the test command in README.md; .ci/run calls it and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

# Docker engine, busybox (the tests' tiny base image) and skopeo (OCI layouts). Root can install them;
# anyone else gets the Docker tests skipped with a reason (in CI they must run and would fail instead).
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "note: not root, not installing ${need[*]}; Docker tests will be skipped" >&2
  fi
fi
if command -v dockerd >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  bash scripts/start-dockerd.sh
fi

python3 -m ruff check core tui prompts tests bench
python3 -m mypy
python3 -m pytest -n 2 --dist loadgroup "$@"
