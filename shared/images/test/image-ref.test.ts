import test from "ava";
import fc from "fast-check";
import { DEFAULT_TAG, formatImageRef, ImageError, imageKey, imageRefOfKey, parseImageRef } from "../index.js";

function refusal(text: string): string {
  try {
    parseImageRef(text);
  } catch (error) {
    if (error instanceof ImageError && error.reason === "bad_reference") return error.message;
    throw error;
  }
  throw new Error(`'${text}' was accepted`);
}

test("name:tag in Docker's forms; the tag defaults to latest", (t) => {
  t.deepEqual(parseImageRef("web"), { name: "web", tag: DEFAULT_TAG });
  t.deepEqual(parseImageRef("web:1.2"), { name: "web", tag: "1.2" });
  t.deepEqual(parseImageRef("team/web-app:v1_rc.2"), { name: "team/web-app", tag: "v1_rc.2" });
  t.deepEqual(parseImageRef("registry.local/team/web"), { name: "registry.local/team/web", tag: "latest" });
  t.deepEqual(parseImageRef("web:Release-1.."), { name: "web", tag: "Release-1.." });
  t.is(formatImageRef(parseImageRef("a/b")), "a/b:latest");
});

test("each broken rule gets its own message, with an example of a good reference", (t) => {
  t.regex(refusal(""), /is empty; write name:tag, e\.g\. 'web:1\.2'/);
  t.regex(refusal("Web:1"), /has upper-case letters in its name/);
  t.regex(refusal("web:"), /has an empty tag after the ':'/);
  t.regex(refusal(":1"), /has no name before the ':'/);
  t.regex(refusal("web:.hidden"), /has the tag '\.hidden': a tag is up to 128/);
  t.regex(refusal(`web:${"x".repeat(129)}`), /a tag is up to 128/);
  t.regex(refusal("web@sha256:abc"), /names a digest/);
  t.regex(refusal("localhost:5000/web:1"), /more than one ':'/);
  t.regex(refusal("team//web"), /an empty path component/);
  t.regex(refusal("/web"), /an empty path component/);
  t.regex(refusal("web__app"), /the name part 'web__app'/);
  t.regex(refusal("-web"), /the name part '-web'/);
  t.regex(refusal(`${"a".repeat(256)}:1`), /name longer than 255/);
});

const component = fc.stringMatching(/^[a-z0-9]{1,6}(?:[._-][a-z0-9]{1,6}){0,2}$/);
const validName = fc.array(component, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("/"));
const validTag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);

test("property: valid references survive formatting, and their KV keys are valid keys that decode back", (t) => {
  // @nats-io/kv's own key rule: these characters, no empty '.'-separated token.
  const KV_KEY = /^[-/=.\w]+$/;
  fc.assert(
    fc.property(validName, validTag, (name, tag) => {
      const ref = parseImageRef(`${name}:${tag}`);
      const key = imageKey(ref);
      return ref.name === name && ref.tag === tag && KV_KEY.test(key) && !key.split(".").includes("") && formatImageRef(imageRefOfKey(key)) === `${name}:${tag}`;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test("property: any text either parses to a reference that formats back to itself (plus :latest), or is refused with a bad_reference", (t) => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(..."aZ9._-/:@ ") , maxLength: 20 }), (text) => {
      let ref;
      try {
        ref = parseImageRef(text);
      } catch (error) {
        return error instanceof ImageError && error.reason === "bad_reference" && error.message.includes(`'${text}'`);
      }
      const formatted = formatImageRef(ref);
      return formatted === text || formatted === `${text}:latest`;
    }),
    { numRuns: 3000 },
  );
  t.pass();
});
