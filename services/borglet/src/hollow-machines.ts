import type { Resources } from "@corral/contracts";
import { seededRandom } from "@corral/kit";

const GIB = 1024 ** 3;

/** Machine shapes of a trace-like cell: many mid-size machines, some small and some large. */
const SHAPES: readonly { share: number; shape: string; capacity: Resources }[] = [
  { share: 0.3, shape: "small", capacity: { cpu: 8, ram: 32 * GIB, disk: 500 * GIB } },
  { share: 0.5, shape: "medium", capacity: { cpu: 16, ram: 64 * GIB, disk: 1000 * GIB } },
  { share: 0.2, shape: "large", capacity: { cpu: 32, ram: 128 * GIB, disk: 2000 * GIB } },
];

export interface HollowMachineSpec {
  name: string;
  capacity: Resources;
  attributes: Record<string, string>;
}

/**
 * The machines one hollow borglet simulates: mixed capacities and failure domains (40
 * machines a rack, 5 racks a power domain), the same for the same seed.
 */
export function hollowMachines(prefix: string, count: number, seed: number): HollowMachineSpec[] {
  const random = seededRandom(seed);
  const machines: HollowMachineSpec[] = [];
  for (let i = 0; i < count; i++) {
    const roll = random();
    let cumulative = 0;
    const chosen = SHAPES.find((s) => (cumulative += s.share) >= roll) ?? SHAPES[SHAPES.length - 1]!;
    const rack = Math.floor(i / 40);
    machines.push({
      name: `${prefix}-${i}`,
      capacity: chosen.capacity,
      attributes: { shape: chosen.shape, rack: `${prefix}-r${rack}`, power: `${prefix}-p${Math.floor(rack / 5)}`, hollow: "true" },
    });
  }
  return machines;
}
