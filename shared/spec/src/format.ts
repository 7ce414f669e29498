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
 * JSON; `verbatim` is already written in the target syntax.
 */
export type Literal = { kind: "string" | "quantity" | "number" | "verbatim"; text: string };

export const str = (text: string): Literal => ({ kind: "string", text });
export const qty = (text: string): Literal => ({ kind: "quantity", text });
export const num = (text: string): Literal => ({ kind: "number", text });

function literal(format: SpecFormat, value: Literal): string {
  if (value.kind === "number" || value.kind === "verbatim") return value.text;
  if (format === "json") return JSON.stringify(value.text);
  if (format === "borg" && value.kind === "string") return `'${value.text}'`;
  return value.text;
}

function key(format: SpecFormat, name: string): string {
  return format === "json" ? JSON.stringify(name) : name;
}

/** `ram = 100M`, `ram: 100M` or `"ram": "100M"`: examples in the syntax the user is writing. */
export function exampleField(format: SpecFormat, name: string, value: Literal): string {
  return `${key(format, name)}${format === "borg" ? " = " : ": "}${literal(format, value)}`;
}

/** `requirements = { ram = 100M cpu = 0.5 }` and its YAML/JSON equivalents. */
export function exampleBlock(format: SpecFormat, name: string, fields: ReadonlyArray<[string, Literal]>): string {
  const inner = fields.map(([field, value]) => exampleField(format, field, value)).join(format === "borg" ? " " : ", ");
  return `${key(format, name)}${format === "borg" ? " = " : ": "}{ ${inner} }`;
}
