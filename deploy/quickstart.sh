#!/usr/bin/env bash
# Quick start: install what is missing, start a local cell, deploy hello_world, show it.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} (Debian packages)"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}"
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
# `corral` runs the built output (incremental: quick once built).
npm run build --silent >/dev/null

npx corral cell up || echo "(using the cell that is already running in .corral/)"
# A cell keeps its jobs across `cell down` and `cell up` (its state is in .corral/redis): a
# hello_world from an earlier quick start is stopped first, so this one is deployed afresh.
if npx corral ps hello_world >/dev/null 2>&1; then
  npx corral kill hello_world --wait --json >/dev/null
fi
npx corral up deploy/examples/hello_world.borg --wait --json >/dev/null
npx corral ps
