#!/bin/sh
# Start a Docker engine for tests and benchmarks if none answers yet (idempotent).
# The engine runs without iptables and without the default bridge, so it works in containers and CI
# runners where those are unavailable; builds then use `--network none`. Log: /tmp/dockerd.log.
set -eu

LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
WAIT=${DOCKERD_WAIT:-60}

if docker info >/dev/null 2>&1; then
    exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
    echo "start-dockerd: dockerd is not installed (apt-get install docker.io)" >&2
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    echo "start-dockerd: must run as root to start dockerd" >&2
    exit 1
fi

nohup dockerd --iptables=false --ip6tables=false --bridge=none >>"$LOG" 2>&1 &
pid=$!
waited=0
while [ "$waited" -lt "$WAIT" ]; do
    if docker info >/dev/null 2>&1; then
        echo "start-dockerd: engine up (pid $pid) after ${waited}s"
        exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "start-dockerd: dockerd exited; last lines of $LOG:" >&2
        tail -n 20 "$LOG" >&2
        exit 1
    fi
    sleep 1
    waited=$((waited + 1))
done
echo "start-dockerd: the engine did not answer within ${WAIT}s; see $LOG" >&2
tail -n 20 "$LOG" >&2
exit 1
