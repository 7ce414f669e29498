import { pipeline, type Readable } from "node:stream";

/**
 * `first` piped through `transforms`, as one readable: an error anywhere destroys the last
 * stream with it, so whoever consumes the result sees every failure along the way.
 */
export function chain(first: Readable, ...transforms: NodeJS.ReadWriteStream[]): Readable {
  if (transforms.length === 0) return first;
  // The callback form returns the last stream; errors reach it through destroy(), and the
  // callback itself has nothing left to do.
  return pipeline([first, ...transforms], () => {}) as unknown as Readable;
}
