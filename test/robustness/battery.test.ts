/**
 * The bad-input battery: every command that reads a file, run as a user would, against hostile
 * inputs. Each run must end with exit 0 (a correct partial result) or 1 (one clear error line), never
 * a crash, a stack trace, a usage error or a hang, and within a bounded heap.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fixture, pool, runCli, type CliResult, scratchDir } from '../helpers.js';
import { configDumpCases, genericCases, truncations, ztunnelDumpCases, type HostileCase } from './corpus.js';

interface Reader {
  name: string;
  /** argv with the hostile file in place of FILE */
  args: (file: string) => string[];
  /** the command's own realistic input, cut at several offsets */
  own: string;
  /** also fed the Envoy-specific cases */
  envoy?: boolean;
  /** fed only the Envoy-specific cases and truncations: its parsing path is another reader's */
  envoyOnly?: boolean;
  /** also fed the ztunnel-specific cases (a reader of ztunnel dumps, or one that must refuse them) */
  ztunnel?: boolean;
  /**
   * analyze reports every broken input on its own line (one bad document must not hide the findings
   * in others), and exits 79 when the readable part has findings (istioctl's code).
   */
  perInputErrors?: boolean;
}

const DUMP = fixture('bookinfo', 'productpage-config_dump.json');
const ZTUNNEL_DUMP = fixture('ztunnel', 'ztunnel-worker-config_dump.json');
const READERS: Reader[] = [
  { name: 'proxy-config clusters', args: (f) => ['proxy-config', 'clusters', '-f', f], own: DUMP, envoy: true },
  { name: 'proxy-config listeners', args: (f) => ['proxy-config', 'listeners', '-f', f], own: DUMP, envoy: true, envoyOnly: true },
  { name: 'proxy-config routes -o json', args: (f) => ['proxy-config', 'routes', '-f', f, '-o', 'json'], own: DUMP, envoy: true, envoyOnly: true },
  { name: 'proxy-config endpoints', args: (f) => ['proxy-config', 'endpoints', '-f', f], own: fixture('bookinfo', 'productpage-clusters.json'), envoy: true },
  { name: 'proxy-config secret -o yaml', args: (f) => ['proxy-config', 'secret', '-f', f, '-o', 'yaml'], own: DUMP, envoy: true, envoyOnly: true },
  { name: 'proxy-config all', args: (f) => ['proxy-config', 'all', '-f', f], own: DUMP, envoy: true, ztunnel: true },
  { name: 'ztunnel-config all', args: (f) => ['ztunnel-config', 'all', '-f', f], own: ZTUNNEL_DUMP, envoy: true, ztunnel: true },
  { name: 'ztunnel-config workloads -o json', args: (f) => ['zc', 'w', '-f', f, '-o', 'json'], own: ZTUNNEL_DUMP, envoyOnly: true, ztunnel: true },
  { name: 'trace', args: (f) => ['trace', '-f', f, 'http://reviews.default.svc.cluster.local:9080/reviews/0'], own: DUMP, envoy: true },
  { name: 'iptables', args: (f) => ['iptables', '-f', f], own: fixture('iptables', 'classic-sidecar.iptables-save.txt') },
  {
    name: 'iptables trace',
    args: (f) => ['iptables', 'trace', '-f', f, '--dst', '10.96.0.1:443', '--uid', '1000'],
    own: fixture('iptables', 'classic-sidecar.iptables-save.txt'),
  },
  { name: 'analyze', args: (f) => ['analyze', '--use-kube=false', f], own: fixture('describe', 'bookinfo', 'virtual-services.yaml'), perInputErrors: true },
  { name: 'kube-inject', args: (f) => ['kube-inject', '--offline', '-f', f], own: fixture('inject', 'shop-web.yaml') },
  { name: 'uninject', args: (f) => ['uninject', '-f', f], own: fixture('inject', 'shop-web.injected.yaml') },
  { name: 'waypoint list -o wide', args: (f) => ['waypoint', 'list', '-o', 'wide', '--files', f], own: fixture('ambient', 'waypoints.yaml') },
  {
    name: 'describe pod',
    args: (f) => ['describe', 'pod', 'productpage-v1-6f9f5b7c8d-x2x9z.default', '--files', f],
    own: fixture('describe', 'bookinfo', 'pods.yaml'),
  },
];

// enough heap for the real fixtures many times over; a run that needs more has lost its bounds
const ENV = { NODE_OPTIONS: '--max-old-space-size=768' };
const PER_RUN_MS = 30_000;

const dir = scratchDir('meshctl-battery-');
let fileCount = 0;
function materialise(c: HostileCase): string {
  const file = path.join(dir, `case-${fileCount++}`);
  writeFileSync(file, c.content);
  return file;
}

function verdict(r: CliResult, reader: Reader, file: string): string | null {
  if (r.code === null) return 'did not finish in time (killed)';
  const allowed = reader.perInputErrors ? [0, 1, 79] : [0, 1];
  if (!allowed.includes(r.code)) return `exit code ${r.code}, expected ${allowed.join(' or ')}`;
  if (/^\s+at .+[:(]\d+/m.test(r.stderr) || /^\s+at /m.test(r.stdout)) return 'printed a stack trace';
  if (/FATAL ERROR|JavaScript heap out of memory/.test(r.stderr)) return 'ran out of memory';
  if (reader.perInputErrors) {
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('Error: '));
    if (r.code === 1 && errors.length === 0) return 'exit 1 without an error line';
    const unnamed = errors.filter((l) => !l.includes(file) && !/input problems?|Analyzers found issues/.test(l));
    if (unnamed.length > 0) return `an error line does not name the file: ${unnamed[0]}`;
    return null;
  }
  if (r.code === 1) {
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('Error: '));
    if (errors.length !== 1) return `expected exactly one "Error:" line on stderr, got: ${JSON.stringify(r.stderr.slice(0, 300))}`;
    if (errors[0].length < 'Error: x'.length + 8) return `error line says too little: ${errors[0]}`;
  }
  return null;
}

test('bad-input battery: every file-reading command against hostile inputs', { timeout: 600_000 }, async (t) => {
  const generic = genericCases().map((c) => ({ c, file: materialise(c) }));
  const envoy = configDumpCases().map((c) => ({ c, file: materialise(c) }));
  const ztunnel = ztunnelDumpCases().map((c) => ({ c, file: materialise(c) }));
  const runs: { reader: Reader; c: HostileCase; file: string }[] = [];
  for (const reader of READERS) {
    if (!reader.envoyOnly) for (const g of generic) runs.push({ reader, ...g });
    if (reader.envoy) for (const e of envoy) runs.push({ reader, ...e });
    if (reader.ztunnel) for (const z of ztunnel) runs.push({ reader, ...z });
    const own = readFileSync(reader.own, 'utf8');
    for (const c of truncations(path.basename(reader.own), own, 3)) runs.push({ reader, c, file: materialise(c) });
  }
  const failures: string[] = [];
  let exit0 = 0;
  let exit1 = 0;
  await pool(runs, 3, async ({ reader, c, file }) => {
    const r = await runCli(reader.args(file), { env: ENV, timeoutMs: PER_RUN_MS });
    const why = verdict(r, reader, file);
    if (why) failures.push(`${reader.name} on "${c.name}": ${why}`);
    else if (r.code === 0) exit0++;
    else exit1++;
  });
  t.diagnostic(`hostile cases tried: ${runs.length} (${READERS.length} commands; ${exit1} clear errors, ${exit0} partial results)`);
  process.stdout.write(`# bad-input battery: ${runs.length} hostile cases, ${failures.length} failed\n`);
  assert.deepEqual(failures, [], `${failures.length} of ${runs.length} hostile cases failed:\n${failures.join('\n')}`);
});
