import { fanoutProgress } from '../output/progress.js';

/** Runs `fn` over `items` with at most `limit` at once, keeping order; each result is kept or its error. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface FanoutOptions {
  limit?: number;
  /** Called after each item finishes (done, total), e.g. for a progress line on a terminal. */
  onProgress?: (done: number, total: number) => void;
}

export async function fanout<I, T>(items: readonly I[], fn: (item: I) => Promise<T>, options: FanoutOptions = {}): Promise<Settled<T>[]> {
  const limit = Math.max(1, options.limit ?? 8);
  const results: Settled<T>[] = new Array(items.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { ok: true, value: await fn(items[i]) };
      } catch (error) {
        results[i] = { ok: false, error };
      }
      options.onProgress?.(++done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A progress reporter on stderr, only when stderr is a terminal (never in pipes, logs or tests): src/output/progress. */
export function stderrProgress(label: string, stream: NodeJS.WriteStream = process.stderr): FanoutOptions['onProgress'] {
  return fanoutProgress(label, { stream });
}
