#!/usr/bin/env bash
# make compose-up: the base image (once), the kamconf image, then every service of docker-compose.yml,
# returning once each is healthy (non-zero, with the logs of those that are not, after 300 s).
set -euo pipefail
cd "$(dirname "$0")/.."
compose=(docker-compose -p "${KAMCONF_COMPOSE_PROJECT:-kamconf}")
bash docker/base.sh
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
start=$(date +%s.%N)
cp /etc/ssl/certs/ca-certificates.crt docker/host-ca.crt
trap 'rm -f docker/host-ca.crt' EXIT
docker build -q -t kamconf:latest -f docker/Dockerfile . >/dev/null
built=$(date +%s.%N)
echo "compose: image kamconf:latest ready in $(since "$start") s" >&2
"${compose[@]}" up -d --remove-orphans >&2
services=$("${compose[@]}" config --services | grep -vx prepare)
deadline=$(( $(date +%s) + 300 ))
while :; do
  waiting=()
  for service in $services; do
    id=$("${compose[@]}" ps -q "$service")
    state=$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null || echo missing)
    [ "$state" = healthy ] || waiting+=("$service")
  done
  [ ${#waiting[@]} -eq 0 ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "compose: not healthy after 300 s: ${waiting[*]}" >&2
    for service in "${waiting[@]}"; do "${compose[@]}" logs --tail 20 "$service" >&2; done
    exit 1
  fi
  sleep 1
done
echo "compose: every service healthy $(since "$built") s after the image was ready" >&2
