import { parseJobSpec } from "@corral/spec";
const mix = "name: x\nlabels:\n" + Array.from({ length: 120 }, (_, i) => " ".repeat(2 * i + 2) + `k${i}:`).join("\n") + "\n" + " ".repeat(242) + "- ".repeat(60) + "[".repeat(60) + "1" + "]".repeat(60);
const cases: [string, "yaml" | "json", string][] = [
  ["dashes", "yaml", "name: x\na:\n  " + "- ".repeat(500_000)],
  ["indent", "yaml", "name: x\n" + Array.from({ length: 2000 }, (_, i) => " ".repeat(i) + "a:").join("\n")],
  ["mix", "yaml", mix],
  ["quoted", "json", JSON.stringify({ name: "x", binary: "/bin/echo", args: ["[".repeat(10_000)] })],
  ["block", "yaml", "name: x\nbinary: /bin/echo\nargs:\n  - |\n    " + "[".repeat(100)],
];
for (const [name, format, text] of cases) {
  const t0 = performance.now();
  try { parseJobSpec(text, { file: "x." + format, format }); console.log(name, "parsed"); } catch (e) { console.log(name, (e as Error).message.slice(0, 200)); }
  console.log(name, Math.round(performance.now() - t0), "ms");
}
