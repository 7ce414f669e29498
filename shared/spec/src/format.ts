export type SpecFormat = "borg" | "yaml" | "json";

export const SPEC_FORMATS: readonly SpecFormat[] = ["borg", "yaml", "json"];

const EXTENSIONS: ReadonlyMap<string, SpecFormat> = new Map([
  [".borg", "borg"],
  [".yaml", "yaml"],
  [".yml", "yaml"],
  [".json", "json"],
]);

export const KNOWN_EXTENSIONS = [...EXTENSIONS.keys()];

/** The format a file name implies, or undefined when its extension is not one of ours. */
export function formatFromFileName(file: string): SpecFormat | undefined {
  const base = file.slice(Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\")) + 1);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? undefined : EXTENSIONS.get(base.slice(dot).toLowerCase());
}

/**
 * How a value is spelled in examples: quantities are bare in Borg and YAML but strings in
 * JSON; `verbatim` is already written in the target syntax; lists and blocks nest.
 */
export type Literal =
  | { kind: "string" | "quantity" | "number" | "verbatim"; text: string }
  | { kind: "list"; items: readonly Literal[] }
  | { kind: "block"; fields: ReadonlyArray<[string, Literal]> };

export const str = (text: string): Literal => ({ kind: "string", text });
export const qty = (text: string): Literal => ({ kind: "quantity", text });
export const num = (text: string): Literal => ({ kind: "number", text });
export const list = (...items: Literal[]): Literal => ({ kind: "list", items });
export const block = (...fields: Array<[string, Literal]>): Literal => ({ kind: "block", fields });

/** Text YAML reads back as the same string without quotes (`local`, `x86_64`, `/opt/server`). */
const PLAIN_YAML = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
const YAML_KEYWORDS = /^(true|false|null|yes|no|on|off|y|n|~)$/i;

function literal(format: SpecFormat, value: Literal): string {
  switch (value.kind) {
    case "number":
    case "verbatim":
      return value.text;
    case "list":
      return `[${value.items.map((item) => literal(format, item)).join(", ")}]`;
    case "block": {
      const inner = value.fields.map(([field, item]) => exampleField(format, field, item)).join(format === "borg" ? " " : ", ");
      return `{ ${inner} }`;
    }
    case "string":
    case "quantity":
      break;
  }
  if (format === "json") return JSON.stringify(value.text);
  if (format === "borg" && value.kind === "string") return `'${value.text}'`;
  // YAML: operators such as != would be read as a tag, so anything not plainly a word is quoted.
  const alreadyQuoted = /^(['"]).*\1$/.test(value.text);
  if (format === "yaml" && value.kind === "string" && !alreadyQuoted && (!PLAIN_YAML.test(value.text) || YAML_KEYWORDS.test(value.text))) {
    return `'${value.text.replaceAll("'", "''")}'`;
  }
  return value.text;
}

/** Keys written without quotes: Borg's field names, and what YAML reads back as the same string. */
const PLAIN_BORG_KEY = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
const PLAIN_YAML_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;

/** A field name, quoted when the syntax needs it to be (a label key such as `app.kubernetes.io/name`). */
function key(format: SpecFormat, name: string): string {
  if (format === "json") return JSON.stringify(name);
  if (format === "borg") return PLAIN_BORG_KEY.test(name) ? name : `'${name.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  return PLAIN_YAML_KEY.test(name) && !YAML_KEYWORDS.test(name) ? name : `'${name.replaceAll("'", "''")}'`;
}

/** `ram = 100M`, `ram: 100M` or `"ram": "100M"`: examples in the syntax the user is writing. */
export function exampleField(format: SpecFormat, name: string, value: Literal): string {
  return `${key(format, name)}${format === "borg" ? " = " : ": "}${literal(format, value)}`;
}

/** `requirements = { ram = 100M cpu = 0.5 }` and its YAML/JSON equivalents. */
export function exampleBlock(format: SpecFormat, name: string, fields: ReadonlyArray<[string, Literal]>): string {
  return exampleField(format, name, { kind: "block", fields });
}

/** A value alone, as it would follow `=` or `:`. */
export function exampleValue(format: SpecFormat, value: Literal): string {
  return literal(format, value);
}
