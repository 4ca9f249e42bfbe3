// The fluid lower bound on the time for one seed to give a file to N players
// (Kumar & Ross 2006): no schedule, however clever, finishes sooner than
//   T* = max(F / u_seed, F / d_min, N·F / (u_seed + Σ u_i)):
// the seed must send every byte at least once, the slowest player must receive
// all of it, and N copies must cross the sum of all uplinks.

export interface SwarmCapacity {
  /** F, bytes */
  sizeBytes: number;
  /** the seed's uplink, bytes/s */
  seedUp: number;
  /** each player's uplink, bytes/s */
  playersUp: number[];
  /** each player's downlink, bytes/s */
  playersDown: number[];
}

export interface FluidBound {
  seconds: number;
  /** F / u_seed */
  seedUplink: number;
  /** F / d_min */
  slowestDownlink: number;
  /** N·F / (u_seed + Σ u_i) */
  allUplinks: number;
}

export function fluidBound(c: SwarmCapacity): FluidBound {
  const n = c.playersDown.length;
  if (n === 0 || c.playersUp.length !== n) throw new Error('fluidBound: one uplink and one downlink per player');
  const seedUplink = c.sizeBytes / c.seedUp;
  const slowestDownlink = c.sizeBytes / Math.min(...c.playersDown);
  const allUplinks = (n * c.sizeBytes) / (c.seedUp + c.playersUp.reduce((a, b) => a + b, 0));
  return { seconds: Math.max(seedUplink, slowestDownlink, allUplinks), seedUplink, slowestDownlink, allUplinks };
}

/** Link rate in Mbit/s (10^6 bit/s) as bytes/s. */
export const mbitToBytes = (mbit: number): number => (mbit * 1e6) / 8;
