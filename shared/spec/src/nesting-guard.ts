import type { IssueList } from "./errors.js";

/** How deep a job spec's values may nest, in every syntax; real specs need about six levels. */
export const MAX_NESTING = 64;
/** Block nesting shows as indentation; deeper than this is no job spec. */
const MAX_INDENT = 256;

/**
 * Refuses YAML or JSON nested too deep before the YAML library sees it: the library parses
 * nesting by recursion, so a megabyte of `[[[…` would stall for seconds or run a gateway or
 * leader out of memory before any depth check on the tree could run. One pass, no recursion:
 * flow brackets outside quoted strings and comments, compact block sequences (`- - - x`), and
 * indentation each have a bound, which together keep the library's recursion shallow.
 *
 * It errs on the side of refusing: brackets in a block scalar (`|`) count too, and a quote
 * opens a string only where YAML's would, so no text can hide brackets from this pass that
 * the library would then read as nesting.
 */
export function refuseDeepNesting(source: string, issues: IssueList): void {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  let quote: '"' | "'" | undefined;
  let atLineStart = true;
  let dashes = 0;
  /** the last character that was not a space: a quote after one of `:-[{,` (or none) starts a string */
  let previous = "";
  const fail = (what: string, at: number): never => issues.fail(`${what}; a job spec nests at most ${MAX_NESTING} levels`, { line, column: at - lineStart + 1 });
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === "\n") {
      line++;
      lineStart = i + 1;
      atLineStart = true;
      dashes = 0;
      previous = "";
      continue;
    }
    if (quote !== undefined) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) {
        quote = undefined;
        previous = c;
      }
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      if (atLineStart && i - lineStart >= MAX_INDENT) fail(`a line is indented more than ${MAX_INDENT} columns`, i);
      continue;
    }
    if (atLineStart && c === "-" && (source[i + 1] === " " || source[i + 1] === "\t")) {
      if (++dashes > MAX_NESTING) fail(`more than ${MAX_NESTING} nested lists start on one line`, i);
      previous = "-";
      continue;
    }
    atLineStart = false;
    if ((c === '"' || c === "'") && (previous === "" || ":-[{,".includes(previous))) quote = c;
    else if (c === "#" && (i === lineStart || /\s/.test(source[i - 1]!))) {
      const end = source.indexOf("\n", i);
      i = (end < 0 ? source.length : end) - 1;
      continue;
    } else if (c === "[" || c === "{") {
      // One more than the bound: a JSON document's own braces are its root, not a level of nesting.
      if (++depth > MAX_NESTING + 1) fail(`values are nested more than ${MAX_NESTING} levels deep`, i);
    } else if ((c === "]" || c === "}") && depth > 0) depth--;
    previous = c;
  }
}
