import { UsageError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a Go-style duration as kubectl and istioctl take it (`30s`, `1m30s`, `500ms`, `2m`); a bare
 * number is seconds. Zero means "no timeout" would be a trap for scripts, so it is refused.
 */
export function parseDuration(text: string, flag = '--timeout'): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return check(Number(trimmed) * 1000, text, flag);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  let match: RegExpExecArray | null;
  while ((match = re.exec(trimmed)) !== null) {
    total += Number(match[1]) * UNITS[match[2]];
    consumed = re.lastIndex;
  }
  if (consumed === 0 || consumed !== trimmed.length) {
    throw new UsageError(`${flag}: "${text}" is not a duration (use e.g. 30s, 2m, 1m30s, 500ms)`);
  }
  return check(total, text, flag);
}

function check(ms: number, text: string, flag: string): number {
  if (!(ms > 0)) throw new UsageError(`${flag}: "${text}" must be greater than zero`);
  return Math.round(ms);
}

/** `30000` → `30s`, for messages that repeat the user's timeout back. */
export function formatDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
