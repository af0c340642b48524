/** What every istioctl table here returns, and the Go-compatible helpers several tables share. */

export interface Summary {
  headers: string[];
  rows: string[][];
  /** Go tabwriter padding istioctl uses for this table. */
  padding: number;
}

/** Go's strconv.Atoi: undefined where Go returns an error. */
export function atoi(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function eqFold(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
