import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The project root: tests run from dist/test/, two levels below it. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function fixture(...parts: string[]): string {
  return path.join(ROOT, 'fixtures', ...parts);
}

/**
 * A new directory under the system's temporary directory (`prefix` then random characters), removed with
 * all it holds after the calling file's tests, or after test `t` when given: `after` hooks run whether
 * the tests passed or failed.
 */
export function scratchDir(prefix: string, t?: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  if (t) t.after(remove);
  else after(remove);
  return dir;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  stdin?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Kill the process after this many ms (default 60 s) so a hang fails the test instead of CI. */
  timeoutMs?: number;
}

/** Runs the built CLI as a user would (bin/meshctl.js), with colour off unless the test asks for it. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...options.env };
    for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'meshctl.js'), ...args], {
      cwd: options.cwd ?? ROOT,
      env: env as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
  });
}

/** Asserts the shape every user-facing failure must have: one line on stderr, no stack trace. */
export function isOneLineError(stderr: string): boolean {
  const lines = stderr.trimEnd().split('\n');
  return lines.length === 1 && lines[0].length > 0 && !/\n\s+at /.test(stderr) && !/^\s+at /m.test(stderr);
}

/** Runs `fn` over `items` with at most `limit` at once (CLI batteries: the CI machine has two cores). */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

/** A report as JSON without its `origin` fields (where each object was read from), to compare sources. */
export const withoutOrigin = (r: object): any => JSON.parse(JSON.stringify(r, (k, v) => (k === 'origin' ? undefined : v)));
