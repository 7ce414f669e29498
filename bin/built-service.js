// What every bin/corral*.js does first: refuse to start without the corral-built condition
// (without it, the @corral/* packages would load their TypeScript sources).
export function requireBuiltCondition(command, fromSource) {
  const conditioned = process.execArgv.some((flag, i, all) => flag === "--conditions=corral-built" || flag === "-C=corral-built" || ((flag === "--conditions" || flag === "-C") && all[i + 1] === "corral-built"));
  if (!conditioned) {
    process.stderr.write(`${command}: run it as an executable, or with node --conditions=corral-built; from a source checkout without a build: ${fromSource}\n`);
    process.exit(2);
  }
}

/** A bin/corral-<service>.js: the service's built main, on plain node. */
export async function runBuiltService(service) {
  requireBuiltCondition(`corral-${service}`, `node --import tsx services/${service}/src/main.ts`);
  await import(`../services/${service}/dist/src/main.js`);
}
