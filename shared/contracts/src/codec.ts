import { Packr } from "msgpackr";

/**
 * One envelope shape is declared as a shared record structure, so every message carries
 * it as a compact record; bodies are records defined inline in each message. Structures
 * are never learned at run time: a receiver must decode any message on its own, whoever
 * sent it and whatever it saw before (a Packr with a growing `structures: []` breaks that).
 */
const ENVELOPE_KEYS = ["v", "type", "id", "ts", "cell", "epoch", "body"];

function createPackr(): Packr {
  return new Packr({
    structures: [ENVELOPE_KEYS],
    maxSharedStructures: 1,
    shouldShareStructure: () => false,
    useRecords: true,
    // Dates and Maps are not used on the wire; keep decoding to plain data.
    mapsAsObjects: true,
  });
}

const packr = createPackr();

export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes bytes from the network; throws on malformed input. */
export function decode(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}
