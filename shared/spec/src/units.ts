/**
 * Unit parsing for sizes, CPU and durations. Each function accepts what a person would type
 * in a spec or on a command line, and throws an Error whose message says what is accepted,
 * so callers can pass it straight on.
 */

const NUMBER = String.raw`\d+(?:\.\d+)?(?:[eE][+-]?\d+)?`;
const QUANTITY = new RegExp(String.raw`^([+-]?)(${NUMBER})\s*([A-Za-z]*)$`);

const KIB = 1024;
// Binary multiples throughout, as in Borg: "100M" of RAM means MiB. KB/MB are accepted as the
// same thing because people write them meaning that; nobody means 10^6 bytes of RAM.
const SIZE_UNITS = new Map<string, number>();
for (const [index, letter] of ["k", "m", "g", "t", "p"].entries()) {
  const factor = KIB ** (index + 1);
  for (const spelling of [letter, `${letter}i`, `${letter}ib`, `${letter}b`]) SIZE_UNITS.set(spelling, factor);
}
SIZE_UNITS.set("", 1);
SIZE_UNITS.set("b", 1);

const SIZE_HELP = "use a byte count or a number with K, M, G, T or P (binary: 1K = 1024; Ki/KiB forms work too), e.g. 100M or 1.5G";

function quote(text: string | number): string {
  return typeof text === "number" ? String(text) : JSON.stringify(text);
}

function checkFiniteNonNegative(value: number, what: string, help: string): void {
  if (!Number.isFinite(value)) throw new Error(`${quote(value)} is not a valid ${what}; ${help}`);
  if (value < 0) throw new Error(`${what} must not be negative (got ${quote(value)}); ${help}`);
}

/** Bytes from `100M`, `1.5G`, `512Ki`, `64KiB`, `4096`, or a number of bytes. */
export function parseSize(text: string | number): number {
  if (typeof text === "number") {
    checkFiniteNonNegative(text, "size", SIZE_HELP);
    if (!Number.isInteger(text)) throw new Error(`a size in bytes must be a whole number (got ${text}); ${SIZE_HELP}`);
    if (text > Number.MAX_SAFE_INTEGER) throw new Error(`size ${text} is too large`);
    return text;
  }
  const match = QUANTITY.exec(text.trim());
  if (match === null) throw new Error(`${quote(text)} is not a size; ${SIZE_HELP}`);
  const [, sign = "", digits = "", unit = ""] = match;
  const factor = SIZE_UNITS.get(unit.toLowerCase());
  if (factor === undefined) throw new Error(`${quote(text)} has an unknown size unit ${quote(unit)}; ${SIZE_HELP}`);
  if (sign === "-") throw new Error(`size must not be negative (got ${quote(text)}); ${SIZE_HELP}`);
  if (!Number.isFinite(Number(digits))) throw new Error(`size ${quote(text)} is too large`);
  if (unit === "" || factor === 1) {
    if (!Number.isInteger(Number(digits))) {
      throw new Error(`a size in bytes must be a whole number (got ${quote(text)}); ${SIZE_HELP}`);
    }
  }
  // Fractions of a unit (1.1K) land between bytes; rounding is what anyone would expect.
  const bytes = Math.round(Number(digits) * factor);
  if (!Number.isSafeInteger(bytes)) throw new Error(`size ${quote(text)} is too large`);
  return bytes;
}

const CPU_HELP = "use cores (0.5, 2) or millicores (250m)";

/** Cores from `0.5`, `2`, `250m` (millicores), or a number of cores. */
export function parseCpu(text: string | number): number {
  if (typeof text === "number") {
    checkFiniteNonNegative(text, "cpu", CPU_HELP);
    return text;
  }
  const match = QUANTITY.exec(text.trim());
  if (match === null) throw new Error(`${quote(text)} is not a CPU amount; ${CPU_HELP}`);
  const [, sign = "", digits = "", unit = ""] = match;
  if (unit !== "" && unit !== "m") {
    throw new Error(`${quote(text)} has an unknown CPU unit ${quote(unit)}; ${CPU_HELP}`);
  }
  if (sign === "-") throw new Error(`cpu must not be negative (got ${quote(text)}); ${CPU_HELP}`);
  const cores = unit === "m" ? Number(digits) / 1000 : Number(digits);
  if (!Number.isFinite(cores)) throw new Error(`${quote(text)} is not a valid CPU amount; ${CPU_HELP}`);
  return cores;
}

const DURATION_UNITS = new Map<string, number>([
  ["ms", 1],
  ["s", 1000],
  ["m", 60_000],
  ["h", 3_600_000],
  ["d", 86_400_000],
]);
const DURATION_HELP = "use a number with ms, s, m or h, e.g. 500ms, 5s, 2m, 1h30m";
const DURATION_PART = /(\d+(?:\.\d+)?)([a-z]+)/gy;

/**
 * Milliseconds from `500ms`, `5s`, `2m`, `1h`, `1h30m`, or a number of milliseconds.
 * A bare number in text is rejected (except 0): `grace = 30` is too easy to misread.
 */
export function parseDuration(text: string | number): number {
  if (typeof text === "number") {
    checkFiniteNonNegative(text, "duration", DURATION_HELP);
    return Math.round(text);
  }
  const trimmed = text.trim().toLowerCase();
  if (trimmed.startsWith("-")) throw new Error(`duration must not be negative (got ${quote(text)}); ${DURATION_HELP}`);
  const unsigned = trimmed.startsWith("+") ? trimmed.slice(1) : trimmed;
  if (/^0+(\.0+)?$/.test(unsigned)) return 0;
  if (/^\d+(\.\d+)?$/.test(unsigned)) throw new Error(`${quote(text)} needs a unit; ${DURATION_HELP}`);
  let total = 0;
  let consumed = 0;
  DURATION_PART.lastIndex = 0;
  for (let match = DURATION_PART.exec(unsigned); match !== null; match = DURATION_PART.exec(unsigned)) {
    const [whole, digits = "", unit = ""] = match;
    const factor = DURATION_UNITS.get(unit);
    if (factor === undefined) throw new Error(`${quote(text)} has an unknown duration unit ${quote(unit)}; ${DURATION_HELP}`);
    total += Number(digits) * factor;
    consumed += whole.length;
  }
  if (consumed === 0 || consumed !== unsigned.length) throw new Error(`${quote(text)} is not a duration; ${DURATION_HELP}`);
  const ms = Math.round(total);
  if (!Number.isSafeInteger(ms)) throw new Error(`duration ${quote(text)} is too large`);
  return ms;
}
