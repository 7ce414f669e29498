import type { IssueList, SourcePosition } from "./errors.js";

export type Symbol = "{" | "}" | "[" | "]" | "=" | "," | ";";

export type Token =
  | { kind: "identifier"; text: string; position: SourcePosition }
  | { kind: "string"; value: string; position: SourcePosition }
  | { kind: "number"; value: number; text: string; position: SourcePosition }
  | { kind: "quantity"; text: string; position: SourcePosition }
  | { kind: "symbol"; text: Symbol; position: SourcePosition }
  | { kind: "eof"; position: SourcePosition };

const SYMBOLS = new Set<string>(["{", "}", "[", "]", "=", ",", ";"]);
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_-]*/y;
// Where a name is expected (the job's name, a field name) a leading digit is fine: `job 1web`.
const WORD = /[A-Za-z0-9_][A-Za-z0-9_-]*/y;
/** A '.' or '/' and what follows it of a name; `//` and `/*` start comments, not names. */
const GLUED = /(?:\.|\/(?![/*]))(?:[A-Za-z0-9_.-]|\/(?![/*]))*/y;
const NUMBER = /[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// Whatever is glued to a number is its unit; the field decides later whether it is a size,
// a duration or millicores, and says so if the unit does not fit.
const UNIT = /[A-Za-z_][A-Za-z0-9_.]*/y;
const ESCAPES: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', n: "\n", t: "\t", r: "\r" };

export function describeToken(token: Token): string {
  switch (token.kind) {
    case "identifier":
      return `'${token.text}'`;
    case "string":
      return `the string ${JSON.stringify(token.value.length > 30 ? `${token.value.slice(0, 27)}...` : token.value)}`;
    case "number":
    case "quantity":
      return `'${token.text}'`;
    case "symbol":
      return `'${token.text}'`;
    case "eof":
      return "the end of the file";
  }
}

function describeCharacter(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f || code > 0x7e ? `character U+${code.toString(16).toUpperCase().padStart(4, "0")}` : `'${char}'`;
}

/**
 * Turns Borg config text into tokens on demand. Lazy on purpose: the parser tells it which
 * field it is in (`fieldForErrors`), so even a broken string can be reported as
 * `requirements.ram: ...`.
 */
/** What the parser expects next: a name (job or field) or a value; digits mean different things in each. */
export type LexMode = "name" | "value";

export interface LexerMark {
  index: number;
  line: number;
  lineStart: number;
}

export class BorgLexer {
  private index = 0;
  private line = 1;
  private lineStart = 0;

  constructor(
    private readonly source: string,
    private readonly issues: IssueList,
    private readonly fieldForErrors: () => string | undefined,
  ) {}

  mark(): LexerMark {
    return { index: this.index, line: this.line, lineStart: this.lineStart };
  }

  reset(mark: LexerMark): void {
    this.index = mark.index;
    this.line = mark.line;
    this.lineStart = mark.lineStart;
  }

  next(mode: LexMode): Token {
    this.skipSpaceAndComments();
    const position = this.position();
    const char = this.source[this.index];
    if (char === undefined) return { kind: "eof", position };
    if (SYMBOLS.has(char)) {
      this.index++;
      return { kind: "symbol", text: char as Symbol, position };
    }
    if (char === "'" || char === '"') return this.readString(char, position);
    if (mode === "name") {
      const word = this.match(WORD);
      if (word !== undefined) return { kind: "identifier", text: word, position };
    }
    const number = this.match(NUMBER);
    if (number !== undefined) {
      const unit = this.match(UNIT);
      if (unit !== undefined) return { kind: "quantity", text: number + unit, position };
      return { kind: "number", value: Number(number), text: number, position };
    }
    const identifier = this.match(IDENTIFIER);
    if (identifier !== undefined) return { kind: "identifier", text: identifier, position };
    return this.fail(this.unexpectedCharacter(char), position);
  }

  /**
   * What is glued onto the token just read when that is a '.' or '/' and more name (`app` in
   * `app.kubernetes.io/name`), so the parser can say that such a key needs quotes; reads nothing.
   */
  gluedName(): string | undefined {
    GLUED.lastIndex = this.index;
    return GLUED.exec(this.source)?.[0];
  }

  private unexpectedCharacter(char: string): string {
    const next = this.source[this.index + 1] ?? "";
    if (char === ":") return "unexpected ':'; Borg config uses '=' between a field and its value (key = value)";
    if (char === "." && /\d/.test(next)) return "a number needs a digit before the point: write 0.5, not .5";
    if ((char === "-" || char === "+") && !/\d/.test(next)) return `unexpected '${char}'; a signed number is written like -1`;
    if (char === "/") return "unexpected '/'; comments start with // or #, and paths go in quotes: '/bin/server'";
    if (char === "!") return "unexpected '!'; an operator is a string and needs quotes, e.g. op = '!='";
    return `unexpected ${describeCharacter(char)}; expected a field name, a value, or one of { } [ ] = , ;`;
  }

  private match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.index;
    const found = pattern.exec(this.source);
    if (found === null) return undefined;
    this.index = pattern.lastIndex;
    return found[0];
  }

  private position(at = this.index): SourcePosition {
    return { line: this.line, column: at - this.lineStart + 1 };
  }

  private newline(): void {
    this.line++;
    this.lineStart = this.index;
  }

  private fail(message: string, position: SourcePosition): never {
    return this.issues.fail(message, position, this.fieldForErrors());
  }

  private skipSpaceAndComments(): void {
    const source = this.source;
    while (this.index < source.length) {
      const char = source[this.index];
      if (char === "\n") {
        this.index++;
        this.newline();
      } else if (char === " " || char === "\t" || char === "\r" || char === "\f" || char === "\v" || char === "\uFEFF") {
        this.index++;
      } else if (char === "#" || (char === "/" && source[this.index + 1] === "/")) {
        const end = source.indexOf("\n", this.index);
        this.index = end === -1 ? source.length : end;
      } else if (char === "/" && source[this.index + 1] === "*") {
        const start = this.position();
        this.index += 2;
        for (;;) {
          const close = source.indexOf("*/", this.index);
          const newline = source.indexOf("\n", this.index);
          if (newline !== -1 && (close === -1 || newline < close)) {
            this.index = newline + 1;
            this.newline();
          } else if (close !== -1) {
            this.index = close + 2;
            break;
          } else {
            this.fail("this /* comment is never closed; add */ where it should end", start);
          }
        }
      } else {
        return;
      }
    }
  }

  private readString(quote: "'" | '"', position: SourcePosition): Token {
    const source = this.source;
    let value = "";
    this.index++;
    for (;;) {
      const char = source[this.index];
      if (char === undefined || char === "\n") {
        this.fail(
          `unterminated string: add the closing ${quote} on this line (a string cannot span lines; write \\n for a line break)`,
          position,
        );
      }
      if (char === quote) {
        this.index++;
        return { kind: "string", value, position };
      }
      if (char === "\\") {
        const escaped = source[this.index + 1];
        const replacement = escaped === undefined ? undefined : ESCAPES[escaped];
        if (replacement === undefined) {
          const shown = escaped === undefined || escaped === "\n" ? "a line break" : `\\${escaped}`;
          this.fail(`unknown escape ${shown} in a string; the escapes are \\\\ \\' \\" \\n \\t \\r`, this.position());
        }
        value += replacement;
        this.index += 2;
      } else {
        value += char;
        this.index++;
      }
    }
  }
}
