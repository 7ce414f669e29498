/** JSON from outside (a KV entry, a stream message), or undefined when it does not parse: the caller's schema then refuses it. */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
