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

npx corral cell up || echo "(using the cell that is already running in .corral/)"
npx corral up deploy/examples/hello_world.borg --wait --json >/dev/null
npx corral ps
