import type { JobKind } from "@corral/contracts";
import { BorgLexer, describeToken, type LexerMark, type LexMode, type Token } from "./borg-lexer.js";
import type { IssueList, SourcePosition } from "./errors.js";
import type { RawEntry, RawJob, RawList, RawMap, RawValue } from "./raw-value.js";
import { MAX_NESTING } from "./nesting-guard.js";

/** Deep enough for any real spec, shallow enough that hostile input cannot blow the stack. */

const JOB_HELP = "a Borg spec holds one block: job NAME = { ... }, or alloc NAME = { ... } for an alloc set";

/** What each header keyword declares, and how messages name it. */
const KEYWORDS: Readonly<Record<string, { kind: JobKind; noun: string; article: string; example: string }>> = {
  job: { kind: "job", noun: "job", article: "a", example: "job hello_world = { ... }" },
  alloc: { kind: "alloc", noun: "alloc set", article: "an", example: "alloc web_allocs = { ... }" },
};

/**
 * Recursive descent over Borg config syntax:
 *
 *   file  := ('job' | 'alloc') name '=' map EOF
 *   map   := '{' (entry (',' | ';')*)* '}'      entries may also be separated by just newlines or spaces
 *   entry := key '=' value                      key is a word or a quoted string; '.' or '/' need quotes
 *   value := string | number | quantity | 'true' | 'false' | list | map
 *   list  := '[' (value ','?)* ']'             items may be blocks: [ { ... }, { ... } ]
 *
 * Stops at the first syntax error (there is no sensible way to go on), but collects all
 * duplicate keys before giving up.
 */
export function parseBorgSource(source: string, issues: IssueList): RawJob {
  return new BorgParser(source, issues).parseFile();
}

class BorgParser {
  private readonly lexer: BorgLexer;
  private lookahead: { token: Token; mode: LexMode; before: LexerMark } | undefined;
  /** The field being read, for errors; `undefined` outside the job block. */
  private path: string[] | undefined;
  private depth = 0;

  constructor(
    source: string,
    private readonly issues: IssueList,
  ) {
    this.lexer = new BorgLexer(source, issues, () => this.field());
  }

  parseFile(): RawJob {
    const start = this.peek();
    if (start.kind === "eof") this.fail(`no job or alloc set found; ${JOB_HELP}`, start.position);
    const header = start.kind === "identifier" && Object.hasOwn(KEYWORDS, start.text) ? KEYWORDS[start.text] : undefined;
    if (header === undefined || start.kind !== "identifier") {
      this.fail(`expected 'job' or 'alloc' at the start of the file, found ${describeToken(start)}; ${JOB_HELP}`, start.position);
    }
    const keyword = start.text;
    this.take();

    this.path = ["name"];
    const nameToken = this.take();
    let name: RawValue;
    if (nameToken.kind === "identifier") name = { kind: "string", value: nameToken.text, position: nameToken.position };
    else if (nameToken.kind === "string") name = { kind: "string", value: nameToken.value, position: nameToken.position };
    else this.fail(`expected the ${header.noun}'s name after '${keyword}', found ${describeToken(nameToken)}; e.g. ${header.example}`, nameToken.position);

    const afterName = this.peek();
    if (afterName.kind === "identifier" || afterName.kind === "string") {
      this.fail(
        `${header.article} ${header.noun} name is a single word; found ${describeToken(afterName)} after it. ` +
          `Use lower-case letters, digits, '_' or '-', e.g. ${header.example}`,
        afterName.position,
      );
    }
    this.expect("=", `after the ${header.noun} name; ${JOB_HELP}`);
    this.path = [];
    const open = this.peek();
    if (!(open.kind === "symbol" && open.text === "{")) {
      this.fail(`expected '{' to open the ${header.noun}'s fields, found ${describeToken(open)}; ${JOB_HELP}`, open.position);
    }
    const body = this.parseMap();

    this.path = undefined;
    const trailing = this.peek();
    if (trailing.kind !== "eof") {
      const message =
        trailing.kind === "identifier" && Object.hasOwn(KEYWORDS, trailing.text)
          ? `a file holds exactly one job or alloc set, and a second '${trailing.text}' starts here (the first starts on line ${start.position.line}); put each in its own file`
          : `unexpected ${describeToken(trailing)} after the end of the ${keyword} block; a file holds exactly one job or alloc set, so nothing may follow its closing '}'`;
      this.fail(message, trailing.position);
    }
    this.issues.throwIfAny();
    return { name, position: start.position, body, declared: { kind: header.kind, keyword, position: start.position } };
  }

  private parseMap(): RawMap {
    const open = this.take();
    this.enter(open.position);
    const map: RawMap = { kind: "map", entries: [], position: open.position };
    const seen = new Map<string, RawEntry>();
    const path = this.path ?? [];
    for (;;) {
      this.path = path;
      const token = this.peek();
      if (token.kind === "symbol" && (token.text === "," || token.text === ";")) {
        this.take();
        continue;
      }
      if (token.kind === "symbol" && token.text === "}") {
        this.take();
        break;
      }
      if (token.kind === "eof") {
        this.fail(`this '{' is never closed; add a matching '}'`, open.position);
      }
      if (token.kind === "symbol" && token.text === "]") {
        this.fail(`this '{' is never closed; add '}' before the ']' on line ${token.position.line}`, open.position);
      }
      if (token.kind === "symbol" && token.text === "{") {
        this.fail(
          `expected a field name or '}', found '{'; a block inside a block needs a name (name = { ... }), ` +
            `or, if the block opened on line ${open.position.line} should end here, add '}' before this '{'`,
          token.position,
        );
      }
      let key: string;
      if (token.kind === "identifier") {
        key = token.text;
        const glued = this.lexer.gluedName();
        if (glued !== undefined) {
          // A label key such as app.kubernetes.io/name: unquoted, it would stop at the '.'.
          this.path = [...path, key + glued];
          this.fail(
            `'${key + glued}' needs quotes: a key with '.' or '/' in it is written as a string, '${key + glued}' = ... ` +
              `(unquoted keys are letters, digits, '_' and '-')`,
            token.position,
          );
        }
      } else if (token.kind === "string") key = token.value;
      else this.fail(`expected a field name or '}', found ${describeToken(token)}`, token.position);
      this.take();
      this.path = [...path, key];
      this.expect("=", `after '${key}'; fields are written key = value`);
      const value = this.parseValue();
      const entry: RawEntry = { key, keyPosition: token.position, value };
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, entry);
        map.entries.push(entry);
      } else {
        this.issues.add(
          `duplicate key '${key}' (first set on line ${first.keyPosition.line}, again on line ${token.position.line}); keep only one`,
          token.position,
          this.field(),
        );
      }
    }
    this.depth--;
    this.path = path;
    return map;
  }

  private parseList(): RawList {
    const open = this.take();
    this.enter(open.position);
    const list: RawList = { kind: "list", items: [], position: open.position };
    const path = this.path ?? [];
    for (;;) {
      this.path = path;
      const token = this.peek("value");
      if (token.kind === "symbol" && token.text === ",") {
        this.take();
        continue;
      }
      if (token.kind === "symbol" && token.text === "]") {
        this.take();
        break;
      }
      if (token.kind === "eof") this.fail(`this '[' is never closed; add a matching ']'`, open.position);
      if (token.kind === "symbol" && token.text === "}") {
        this.fail(`this '[' is never closed; add ']' before the '}' on line ${token.position.line}`, open.position);
      }
      if (token.kind === "symbol" && token.text === ";") {
        this.fail("';' does not separate list items; use ',' or just a space: [a, b]", token.position);
      }
      this.path = [...path, String(list.items.length)];
      list.items.push(this.parseValue());
    }
    this.depth--;
    this.path = path;
    return list;
  }

  private parseValue(): RawValue {
    const token = this.peek("value");
    switch (token.kind) {
      case "string":
        this.take();
        return { kind: "string", value: token.value, position: token.position };
      case "number":
        this.take();
        return { kind: "number", value: token.value, text: token.text, position: token.position };
      case "quantity":
        this.take();
        return { kind: "quantity", text: token.text, position: token.position };
      case "identifier":
        if (token.text === "true" || token.text === "false") {
          this.take();
          return { kind: "boolean", value: token.text === "true", position: token.position };
        }
        return this.fail(`expected a value, found the bare word '${token.text}'; strings need quotes: '${token.text}'`, token.position);
      case "symbol":
        if (token.text === "{") return this.parseMap();
        if (token.text === "[") return this.parseList();
        if (token.text === "=") {
          return this.fail("expected a value, found '='; an operator is a string and needs quotes, e.g. op = '=='", token.position);
        }
        return this.fail(`expected a value, found ${describeToken(token)}`, token.position);
      case "eof":
        return this.fail("expected a value, found the end of the file", token.position);
    }
  }

  private enter(position: SourcePosition): void {
    this.depth++;
    if (this.depth > MAX_NESTING) this.fail(`values are nested more than ${MAX_NESTING} levels deep`, position);
  }

  private expect(symbol: "=", context: string): void {
    const token = this.peek();
    if (token.kind === "symbol" && token.text === symbol) {
      this.take();
      return;
    }
    this.fail(`expected '${symbol}' ${context}, found ${describeToken(token)}`, token.position);
  }

  /** The next token, read as a name or as a value; lexing is lazy so errors know the current field. */
  private peek(mode: LexMode = "name"): Token {
    if (this.lookahead !== undefined && this.lookahead.mode !== mode) {
      this.lexer.reset(this.lookahead.before);
      this.lookahead = undefined;
    }
    if (this.lookahead === undefined) {
      const before = this.lexer.mark();
      this.lookahead = { token: this.lexer.next(mode), mode, before };
    }
    return this.lookahead.token;
  }

  /** Consumes the token last peeked, in whichever mode it was read. */
  private take(): Token {
    const token = this.lookahead?.token ?? this.peek();
    this.lookahead = undefined;
    return token;
  }

  private field(): string | undefined {
    return this.path === undefined || this.path.length === 0 ? undefined : this.path.join(".");
  }

  private fail(message: string, position: SourcePosition): never {
    return this.issues.fail(message, position, this.field());
  }
}
