/**
 * Progress on a real terminal: each long fan-out run under a pseudo-terminal (util-linux `script`) draws
 * its bar on stderr and erases it, while the same command in a pipe prints none. The unit tests
 * (progress.test.ts) fake the stream; this one checks the commands really see a TTY and use it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type FakeCluster, startCluster } from '../harness/cluster.js';
import { ROOT, runCli } from '../helpers.js';

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const skip = hasScript ? false : 'util-linux script (a pseudo-terminal) is not installed';

/** The command run under a pseudo-terminal; its whole terminal transcript (stdout and stderr together). */
function underTerminal(args: string[]): Promise<{ code: number | null; out: string }> {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const cmd = [process.execPath, path.join(ROOT, 'bin', 'meshctl.js'), ...args].map(quote).join(' ');
  return new Promise((resolve) => {
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], { env: { ...process.env, COLUMNS: '100', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

let c: FakeCluster;
let dir: string;
before(async () => {
  c = await startCluster();
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-progress-'));
});
after(async () => {
  await c.close();
  rmSync(dir, { recursive: true, force: true });
});

const CASES: { what: string; args: () => string[]; bar: RegExp }[] = [
  { what: 'proxy-status (istiod fan-out)', args: () => ['proxy-status', '--kubeconfig', c.kubeconfig], bar: /asking istiod \/debug\/syncz \[[#·]+\] \d+\/\d+/ },
  { what: 'proxy-config log across pods', args: () => ['proxy-config', 'log', '-l', 'app=reviews', '-n', 'default', '--level', 'debug', '--kubeconfig', c.kubeconfig], bar: /setting log levels \[[#·]+\] \d+\/\d+/ },
  { what: 'bug-report', args: () => ['bug-report', '-n', 'default', '-o', path.join(dir, 'b.tar.gz'), '--kubeconfig', c.kubeconfig], bar: /bug-report: proxies \[[#·]+\] \d+\/\d+/ },
];

for (const k of CASES) {
  test(`${k.what}: a bar redrawn in place on a terminal, nothing in a pipe`, { skip }, async () => {
    const t = await underTerminal(k.args());
    assert.equal(t.code, 0, t.out);
    assert.match(t.out, k.bar, JSON.stringify(t.out.slice(0, 600)));
    assert.match(t.out, /\r[^\n]*\x1b\[K/, 'drawn with a carriage return and an erase to the end of the line');
    const piped = await runCli(k.args().map((a) => (a.endsWith('b.tar.gz') ? path.join(dir, 'p.tar.gz') : a)));
    assert.equal(piped.code, 0, piped.stderr);
    assert.doesNotMatch(piped.stderr + piped.stdout, /\[[#·]{5,}\]|\r|\x1b\[K/);
  });
}
