/**
 * Fills in `%port%` (the first port) and `%portN%` with the ports a task was given. Throws
 * when the text refers to a port that was not assigned: starting a task with a literal
 * `%port2%` in its flags would fail later in a far more confusing way.
 */
export function substitutePorts(text: string, ports: readonly number[]): string {
  // Same grammar as PORT_PLACEHOLDER in @corral/contracts, which counts the references.
  return text.replace(/%port(\d*)%/g, (placeholder, digits: string) => {
    const index = digits === "" ? 0 : Number(digits);
    const port = ports[index];
    if (port === undefined) {
      throw new Error(
        `${placeholder} refers to port ${index} but only ${ports.length} port${ports.length === 1 ? " was" : "s were"} assigned; ` +
          `raise requirements.ports to at least ${index + 1}`,
      );
    }
    return String(port);
  });
}
