#!/usr/bin/env bash
# Writes a Prometheus file_sd target file from a local cell's cell file, so that
# deploy/prometheus.yml scrapes every service of the cell. Run it again after each
# `corral cell up`: the ports are new each time.
#
#   deploy/prometheus-targets.sh [CELL_DIR [OUTPUT]]
#
# CELL_DIR: the cell's directory (default .corral, where `corral cell up` puts it);
# OUTPUT: the file to write (default CELL_DIR/prometheus-targets.json).
set -euo pipefail

dir="${1:-.corral}"
out="${2:-$dir/prometheus-targets.json}"
if [ ! -f "$dir/cell.json" ]; then
  echo "no cell file at $dir/cell.json: start a cell with 'npx corral cell up --dir $dir'" >&2
  exit 1
fi

node - "$dir/cell.json" "$out" <<'JS'
const { readFileSync, renameSync, writeFileSync } = require("node:fs");
const [cellPath, out] = process.argv.slice(2);
const cell = JSON.parse(readFileSync(cellPath, "utf8"));
if (!Array.isArray(cell.metrics) || cell.metrics.length === 0) {
  console.error(`${cellPath} lists no metrics URLs: the cell was started by a corral without metrics; start it again`);
  process.exit(1);
}
// Each target is labelled with the process that serves it (master-0, borglet-1, ...), found
// by the --metrics-port its command line carries.
const byPort = new Map();
for (const p of cell.processes) {
  const flag = p.args.indexOf("--metrics-port");
  if (flag !== -1) byPort.set(p.args[flag + 1], p.name);
}
const groups = cell.metrics.map((url) => {
  const { host, port, pathname } = new URL(url);
  if (pathname !== "/metrics") throw new Error(`${url}: expected a /metrics URL`);
  return { targets: [host], labels: { process: byPort.get(port) ?? "unknown" } };
});
// Prometheus watches the file: a rename never shows it half written.
writeFileSync(`${out}.tmp`, JSON.stringify(groups, null, 2) + "\n");
renameSync(`${out}.tmp`, out);
console.log(`${groups.length} targets written to ${out}`);
JS
