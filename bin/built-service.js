// What every bin/corral-<service>.js does: refuse to start without the corral-built
// condition (it would load TypeScript sources), then run that service's built main.
export async function runBuiltService(service) {
  const conditioned = process.execArgv.some((flag, i, all) => flag === "--conditions=corral-built" || flag === "-C=corral-built" || ((flag === "--conditions" || flag === "-C") && all[i + 1] === "corral-built"));
  if (!conditioned) {
    process.stderr.write(`corral-${service}: run it as an executable, or with node --conditions=corral-built; from a source checkout without a build: node --import tsx services/${service}/src/main.ts\n`);
    process.exit(2);
  }
  await import(`../services/${service}/dist/src/main.js`);
}
