import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Run {
  ms: number;
  rssMb: number;
  cpuMs: number;
  code: number | null;
  stderr: string;
}

export interface Sample {
  /** median wall time of the runs */
  ms: number;
  minMs: number;
  /** median peak RSS of the runs */
  rssMb: number;
  cpuMs: number;
  runs: number;
}

export interface Probe {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node --require rss-hook.cjs ...args` once: wall time seen from here (spawn to exit), peak RSS
 * and CPU time reported by the child itself at exit. stdout goes to `stdoutFile` or /dev/null.
 */
export function runNode(hook: string, args: string[], options: { cwd: string; stdoutFile?: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-bench-'));
  const statsFile = path.join(dir, 'stats.json');
  const out = openSync(options.stdoutFile ?? '/dev/null', 'w');
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--require', hook, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', ...options.env, MESHCTL_BENCH_STATS: statsFile },
      stdio: ['ignore', out, 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    let ms = 0;
    child.on('exit', () => (ms = Number(process.hrtime.bigint() - started) / 1e6));
    // 'close' comes after 'exit' once stderr is drained
    child.on('close', (code) => {
      closeSync(out);
      let stats = { maxRssKb: 0, userUs: 0, systemUs: 0 };
      try {
        stats = JSON.parse(readFileSync(statsFile, 'utf8'));
      } catch {
        // killed or crashed before its exit hook: no figures
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ ms, rssMb: stats.maxRssKb / 1024, cpuMs: (stats.userUs + stats.systemUs) / 1000, code, stderr });
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One warm-up run (page cache, disk), then `runs` measured runs; throws on a failing run. */
export async function sample(hook: string, args: string[], options: { cwd: string; runs: number; label: string; okCodes?: number[] }): Promise<Sample> {
  const runs: Run[] = [];
  for (let i = 0; i <= options.runs; i++) {
    const r = await runNode(hook, args, { cwd: options.cwd });
    if (!(options.okCodes ?? [0]).includes(r.code ?? -1)) throw new Error(`${options.label}: exit ${r.code}: ${firstLine(r.stderr)}`);
    if (i > 0) runs.push(r);
  }
  return {
    ms: median(runs.map((r) => r.ms)),
    minMs: Math.min(...runs.map((r) => r.ms)),
    rssMb: median(runs.map((r) => r.rssMb)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    runs: runs.length,
  };
}

/**
 * Like `sample` for several commands at once, run in turns (A B C, A B C, ...): on a shared machine the
 * load swings between seconds, and a baseline sampled a minute before its command can be off by 30%;
 * in turns, each command and its baseline see the same load. One warm-up turn first.
 */
export async function sampleInTurns(hook: string, commands: { args: string[]; label: string }[], options: { cwd: string; runs: number }): Promise<Sample[]> {
  const runs: Run[][] = commands.map(() => []);
  for (let i = 0; i <= options.runs; i++) {
    for (const [k, c] of commands.entries()) {
      const r = await runNode(hook, c.args, { cwd: options.cwd });
      if (r.code !== 0) throw new Error(`${c.label}: exit ${r.code}: ${firstLine(r.stderr)}`);
      if (i > 0) runs[k].push(r);
    }
  }
  return runs.map((rs) => ({
    ms: median(rs.map((r) => r.ms)),
    minMs: Math.min(...rs.map((r) => r.ms)),
    rssMb: median(rs.map((r) => r.rssMb)),
    cpuMs: median(rs.map((r) => r.cpuMs)),
    runs: rs.length,
  }));
}

export function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
