import test from "ava";
import fc from "fast-check";
import { parseJobSpec, SpecError, type SpecFormat } from "../index.js";

const refusal = (source: string, format: SpecFormat): string | undefined => {
  try {
    parseJobSpec(source, { file: `deep.${format}`, format });
    return undefined;
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    return error.message;
  }
};

// Each was once a megabyte that stalled the parser for seconds or ran the process out of memory.
test("a megabyte nested too deep is refused at once, at the place it goes too deep, in YAML and JSON", (t) => {
  const cases: [string, SpecFormat, RegExp][] = [
    ["[".repeat(1_000_000), "json", /deep\.json:1:66: values are nested more than 64 levels deep/],
    [`{"job": "x", "args": ${"[".repeat(500_000)}${"]".repeat(500_000)}}`, "json", /nested more than 64 levels deep/],
    [`job: x\nargs: ${"{a: ".repeat(300_000)}`, "yaml", /deep\.yaml:2:\d+: values are nested more than 64 levels deep/],
    [`job: x\nargs:\n  ${"- ".repeat(500_000)}x`, "yaml", /deep\.yaml:3:\d+: more than 64 nested lists start on one line/],
    [`job: x\n${Array.from({ length: 2000 }, (_, i) => `${" ".repeat(i)}a:`).join("\n")}`, "yaml", /a line is indented more than 256 columns/],
  ];
  for (const [source, format, message] of cases) t.regex(refusal(source, format) ?? "parsed", message, source.slice(0, 40));
});

test("brackets in quoted strings and comments are text, not nesting", (t) => {
  const deep = "[".repeat(200);
  const base = `job: x\nbinary: /bin/echo\nrequirements: { ram: 1M, cpu: 1 }\nreplicas: 1\n`;
  t.is(refusal(`${base}args: ["${deep}", '${deep}']\n# ${deep}\n`, "yaml"), undefined);
  t.is(refusal(JSON.stringify({ job: "x", binary: "/bin/echo", requirements: { ram: "1M", cpu: 1 }, replicas: 1, args: [deep, `a\\"${deep}`] }), "json"), undefined);
  // A quote inside a plain word opens no string, so it cannot hide brackets that follow.
  t.regex(refusal(`${base}labels: { note: don't }\nargs: ${deep}\n`, "yaml") ?? "parsed", /nested more than 64 levels deep/);
});

test("(property) nesting up to 64 levels passes the guard and more is refused, whatever the brackets", (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 120 }), fc.array(fc.constantFrom("[", "{a: "), { minLength: 120, maxLength: 120 }), fc.constantFrom<SpecFormat>("yaml", "json"), (depth, opens, format) => {
      const open = opens.slice(0, depth).map((bracket) => (format === "json" ? bracket.replace("{a: ", '{"a": ') : bracket));
      const close = open.map((bracket) => (bracket === "[" ? "]" : "}")).reverse();
      const args = `${open.join("")}1${close.join("")}`;
      const source = format === "json" ? `{"job": "x", "args": ${args}}` : `job: x\nargs: ${args}\n`;
      const message = refusal(source, format) ?? "";
      // Deeper than the bound, the guard (or the tree's own check) refuses; within it, the guard never does.
      if (depth > 64) return /nested more than 64 levels/.test(message);
      return !/a job spec nests at most 64 levels/.test(message);
    }),
    // Enough runs that the depths either side of the bound come up every time.
    { numRuns: 500 },
  );
  t.pass();
});
