import { parseJobSpec } from "@corral/spec";
for (const [format, text] of [["json", "[".repeat(1_000_000)], ["json", '{"name":"x","a":' + "[".repeat(500_000) + "]".repeat(500_000) + "}"], ["yaml", "a: " + "[".repeat(1_000_000)], ["yaml", "name: x\na: " + "[".repeat(400_000) + "]".repeat(400_000)], ["borg", "job x = { a = " + "[".repeat(1_000_000)]] as const) {
  const t0 = performance.now();
  try { parseJobSpec(text, { file: "x." + format, format }); console.log(format, "ok?"); } catch (e) { console.log(format, (e as Error).message.slice(0, 160)); }
  console.log(format, Math.round(performance.now() - t0), "ms");
}
