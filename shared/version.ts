// eti_version ordering: versions are date-like digit strings (`20240315`);
// digit strings compare as numbers, anything else falls back to string order.
export function compareVersions(a: string, b: string): number {
  const da = /^\d+$/.test(a);
  const db = /^\d+$/.test(b);
  if (da && db) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The newest of the given versions, ignoring nulls; null when there is none. */
export function newestVersion(versions: Iterable<string | null | undefined>): string | null {
  let best: string | null = null;
  for (const v of versions) {
    if (v && (best === null || compareVersions(v, best) > 0)) best = v;
  }
  return best;
}
