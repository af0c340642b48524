/**
 * meshctl's benchmarks (issue 7). Each figure is printed with its ratio against a baseline measured in
 * the same run on the same machine, so results compare across machines:
 *   1. proxy-config clusters|listeners|routes|endpoints -f dump  vs  node reading the file + JSON.parse
 *   2. trace -f dump <url> on the largest dump                  vs  the same floor
 *   3. start-up: --version, proxy-config on a small dump        vs  node -e 0
 *   4. analyze over a generated repository (~10,000 resources)  vs  node + js-yaml loading the same files
 *   5. proxy-status over 1,000 proxies in the test harness      (bounded concurrency, time, memory)
 *   6. trace through 1,000 AuthorizationPolicies (10,000 rules) vs read + JSON.parse of that dump
 *   7. bug-report over 1,000 pods of the test harness           vs  bug-report over 100 (memory stays flat)
 *   8. one pod's dump read from a 1 GB bundle (--bundle)        vs  proxy-config -f on that dump alone
 *      and trace of that pod from the bundle                      vs  trace -f on its dump and /clusters
 *   9. ztunnel-config all -f on an ambient mesh's ztunnel dump  vs  node reading the file + JSON.parse
 *      (10,000 workloads and 5,000 services, from fixtures/ztunnel/generate.mjs)
 *  10. ambient trace --ztunnel-file on that dump               vs  the same floor (the trace reads the whole
 *      dump once; its lookups are indexed, so the trace itself must not cost more than the parse)
 *  11. report -f dump -f clusters --trace URL on the largest dump vs proxy-config all -f on that dump (the page
 *      holds those tables; the diagram's layout, SVG and HTML must not cost more than the tables again)
 * Benchmarks whose command is not on this branch yet are skipped with the reason.
 *
 *   npm run bench [-- --quick] [--sizes 100,1000] [--only proxy-config,startup] [--runs N]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GENERATOR_VERSION, type GenerateSummary } from './lib/generate.js';
import { TARGET_NS, TARGET_POD, makeBigBundle } from './lib/bundle.js';
import { loadHarness, startLiveCluster } from './lib/live.js';
import { firstLine, runNode, sample, sampleInTurns, type Sample } from './lib/measure.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOOK = path.join(ROOT, 'bench', 'rss-hook.cjs');
const MESHCTL = path.join(ROOT, 'bin', 'meshctl.js');
const OUT = path.join(ROOT, 'bench', 'out');
const BENCHES = ['proxy-config', 'trace', 'authz', 'startup', 'analyze', 'proxy-status', 'bug-report', 'bundle', 'ztunnel-config', 'ambient-trace', 'report'] as const;
type Bench = (typeof BENCHES)[number];

const FLOOR_JSON = "JSON.parse(require('node:fs').readFileSync(process.argv[1], 'utf8'))";
const FLOOR_YAML = `
const fs = require('node:fs'), path = require('node:path'), yaml = require('js-yaml');
let n = 0;
const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name < b.name ? -1 : 1)) {
  const p = path.join(d, e.name);
  if (e.isDirectory()) walk(p); else if (/\\.ya?ml$/.test(e.name)) n += yaml.loadAll(fs.readFileSync(p, 'utf8')).length;
} };
walk(process.argv[1]);
if (n === 0) process.exit(1);`;

interface Row {
  bench: Bench;
  name: string;
  sample?: Sample;
  baseline?: { name: string; sample: Sample };
  target?: { time?: number; memory?: number };
  note?: string;
  skipped?: string;
}

const rows: Row[] = [];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      only: { type: 'string' },
      runs: { type: 'string' },
    },
  });
  const sizes = values.sizes ? values.sizes.split(',').map(Number) : values.quick ? [100, 1000] : [100, 1000, 10000];
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--sizes takes positive integers, e.g. 100,1000');
  const only = new Set((values.only ?? BENCHES.join(',')).split(',') as Bench[]);
  for (const b of only) if (!BENCHES.includes(b)) throw new Error(`--only: unknown benchmark ${b} (known: ${BENCHES.join(', ')})`);
  const runs = values.runs ? Number(values.runs) : values.quick ? 2 : 3;
  mkdirSync(OUT, { recursive: true });
  log(`meshctl benchmarks on ${machine()}, load average ${os.loadavg()[0].toFixed(1)}; ${runs} measured runs each after one warm-up run`);
  log('time ratios are of CPU time (median); wall time is best of the runs');

  const floors = new Map<number, Sample>();
  const floorFor = async (n: number): Promise<Sample> => {
    let f = floors.get(n);
    if (!f) {
      const data = ensureData(n);
      f = await sample(HOOK, ['-e', FLOOR_JSON, data.files.configDump], { cwd: ROOT, runs, label: 'floor' });
      floors.set(n, f);
      log(`  floor ${n} services: read + JSON.parse of ${mb(data.bytes.configDump)} MB: ${fmt(f)}`);
    }
    return f;
  };

  if (only.has('proxy-config')) await benchProxyConfig(sizes, runs, floorFor);
  if (only.has('trace')) await benchTrace(Math.max(...sizes), runs, floorFor);
  if (only.has('authz')) await benchAuthz(runs);
  if (only.has('startup')) await benchStartup(values.quick ? 10 : 20);
  if (only.has('analyze')) await benchAnalyze(values.quick ? 100 : 1000, runs);
  if (only.has('proxy-status')) await benchProxyStatus(runs);
  if (only.has('bug-report')) await benchBugReport();
  if (only.has('bundle')) await benchBundleRead(runs, values.quick ? 256 : 1024);
  if (only.has('ztunnel-config')) await benchZtunnelConfig(values.quick ? 1000 : 10000, runs);
  if (only.has('ambient-trace')) await benchAmbientTrace(values.quick ? 1000 : 10000, runs);
  if (only.has('report')) await benchReport(Math.max(...sizes), runs);
  report();
}

async function benchProxyConfig(sizes: number[], runs: number, floorFor: (n: number) => Promise<Sample>): Promise<void> {
  log('\n== 1. proxy-config -f <dump> vs read + JSON.parse');
  const small = ensureData(Math.min(...sizes));
  const kinds = ['clusters', 'listeners', 'routes', 'endpoints'];
  const available: string[] = [];
  for (const kind of kinds) {
    const p = await probe(['proxy-config', kind, '-f', small.files.configDump]);
    if (p.ok) available.push(kind);
    else skip('proxy-config', `proxy-config ${kind}`, p.why);
  }
  for (const n of sizes) {
    const data = ensureData(n);
    const floor = await floorFor(n);
    rows.push({ bench: 'proxy-config', name: `floor: node reading ${mb(data.bytes.configDump)} MB + JSON.parse, ${n} services`, sample: floor });
    for (const kind of available) {
      const args = ['proxy-config', kind, '-f', data.files.configDump];
      const check = await probe(args);
      if (!check.ok) {
        skip('proxy-config', `proxy-config ${kind} (${n} services)`, check.why);
        continue;
      }
      const s = await sample(HOOK, [MESHCTL, ...args], { cwd: ROOT, runs, label: args.join(' ') });
      const row: Row = { bench: 'proxy-config', name: `proxy-config ${kind}, ${n} services (${mb(data.bytes.configDump)} MB, ${check.lines} lines out)`, sample: s, baseline: { name: 'read + JSON.parse', sample: floor } };
      if (n >= 10000) row.target = { time: 1.5, memory: 2 };
      add(row);
    }
  }
}

async function benchTrace(n: number, runs: number, floorFor: (n: number) => Promise<Sample>): Promise<void> {
  log('\n== 2. trace -f <dump> <url> vs read + JSON.parse');
  const data = ensureData(n);
  for (const t of data.trace) {
    const args = ['trace', '-f', data.files.configDump, t.url];
    const check = await probe(args);
    if (!check.ok) {
      skip('trace', `trace ${t.url}`, check.why);
      break;
    }
    const floor = await floorFor(n);
    if (!check.stdout.includes(t.cluster)) log(`  note: trace output does not name the expected cluster ${t.cluster}`);
    const s = await sample(HOOK, [MESHCTL, ...args], { cwd: ROOT, runs, label: args.join(' ') });
    add({ bench: 'trace', name: `trace ${t.url}, ${n} services`, sample: s, baseline: { name: 'read + JSON.parse', sample: floor }, target: n >= 10000 ? { time: 1.5 } : undefined });
  }
}

async function benchAuthz(runs: number, policies = 1000, rules = 10): Promise<void> {
  log(`\n== 6. trace through ${policies} AuthorizationPolicies (${policies * rules} rules) vs read + JSON.parse`);
  const file = path.join(OUT, `authz-${policies}x${rules}`, 'config_dump.json');
  if (!existsSync(file)) {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'bench', 'gen.js'), '--authz', String(policies), '--rules', String(rules), '--out', path.dirname(file)], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error('generating the authz dump failed');
  }
  const bytes = readFileSync(file).length;
  // The last policy's team, so every policy before it is evaluated (and the ALLOW filter explains its nearest rules).
  const last = policies - 2;
  const cases: [string, string[]][] = [
    [`allowed by the last ALLOW policy`, [`http://httpbin:8000/api/v9/team-${last}/x`, '-H', `x-team: team-${last}`, '--source-principal', `spiffe://cluster.local/ns/team-${last}/sa/client-9`]],
    [`denied: no ALLOW policy matches (nearest rules explained)`, ['http://httpbin:8000/nothing', '--source-principal', 'spiffe://cluster.local/ns/x/sa/y']],
  ];
  const measured: { name: string; args: string[] }[] = [];
  for (const [name, target] of cases) {
    const args = ['trace', '-f', file, ...target, '--direction', 'inbound', '--src', '10.244.1.20'];
    const check = await probe(args);
    if (check.ok) measured.push({ name, args });
    else skip('authz', `trace ${name}`, check.why);
  }
  // The floor and the traces in turns: the ratios are what this benchmark is about.
  const [floor, ...samples] = await sampleInTurns(HOOK, [{ args: ['-e', FLOOR_JSON, file], label: 'authz floor' }, ...measured.map((m) => ({ args: [MESHCTL, ...m.args], label: m.name }))], { cwd: ROOT, runs });
  log(`  floor: read + JSON.parse of ${mb(bytes)} MB: ${fmt(floor)}`);
  for (const [i, m] of measured.entries()) {
    add({ bench: 'authz', name: `trace ${m.name}, ${policies} policies / ${policies * rules} rules (${mb(bytes)} MB)`, sample: samples[i], baseline: { name: 'read + JSON.parse', sample: floor }, target: { time: 1.5 } });
  }
}

async function benchStartup(runs: number): Promise<void> {
  log('\n== 3. start-up vs node -e 0');
  const base = await sample(HOOK, ['-e', '0'], { cwd: ROOT, runs, label: 'node -e 0' });
  log(`  node -e 0: ${fmt(base)}`);
  const small = ensureData(10);
  const cases: [string, string[]][] = [
    ['meshctl --version', ['--version']],
    ['meshctl proxy-config clusters -f small dump (10 services)', ['proxy-config', 'clusters', '-f', small.files.configDump]],
  ];
  for (const [name, args] of cases) {
    const check = await probe(args);
    if (!check.ok) {
      skip('startup', name, check.why);
      continue;
    }
    const s = await sample(HOOK, [MESHCTL, ...args], { cwd: ROOT, runs, label: name });
    add({ bench: 'startup', name, sample: s, baseline: { name: 'node -e 0', sample: base }, target: { time: 2 } });
  }
}

async function benchAnalyze(n: number, runs: number): Promise<void> {
  log('\n== 4. analyze over a generated repository vs js-yaml loading it');
  const data = ensureData(n, true);
  const dir = data.files.resources!;
  const args = ['analyze', '-R', dir];
  const check = await probe(args, [0, 79]);
  if (!check.ok) return skip('analyze', `analyze (${data.counts.resources} resources)`, check.why);
  const base = await sample(HOOK, ['-e', FLOOR_YAML, dir], { cwd: ROOT, runs, label: 'js-yaml floor' });
  const s = await sample(HOOK, [MESHCTL, ...args], { cwd: ROOT, runs, label: 'analyze', okCodes: [0, 79] });
  add({ bench: 'analyze', name: `analyze -R, ${data.counts.resources} resources in ${data.counts.resourceFiles} files`, sample: s, baseline: { name: 'js-yaml loadAll', sample: base }, target: { time: 2 } });
}

async function benchProxyStatus(runs: number, proxies = 1000): Promise<void> {
  log(`\n== 5. proxy-status and fan-out over ${proxies} proxies in the test harness`);
  const harness = await loadHarness(ROOT);
  if (typeof harness === 'string') return skip('proxy-status', `proxy-status, ${proxies} proxies`, harness);
  const small = ensureData(10);
  const cluster = await startLiveCluster(harness, path.join(OUT, `live-${proxies}`), proxies, 3, small.files.configDump);
  try {
    const kube = ['--kubeconfig', cluster.kubeconfig];
    const cases: { name: string; args: string[]; rows: number; open: { max: number }; what: string }[] = [
      { name: `proxy-status, ${proxies} proxies on 3 istiod replicas`, args: ['proxy-status', ...kube], rows: proxies, open: cluster.open, what: 'istiods' },
      {
        name: `proxy-config log -l (fan-out to ${proxies} sidecars over port-forwards)`,
        args: ['proxy-config', 'log', '-l', 'bench=fanout', '-n', cluster.namespace, '--level', 'warning', ...kube],
        rows: proxies,
        open: cluster.envoyOpen,
        what: 'sidecars',
      },
    ];
    for (const c of cases) {
      const check = await probe(c.args);
      if (!check.ok) {
        skip('proxy-status', c.name, check.why);
        continue;
      }
      if (check.lines < c.rows) log(`  note: ${c.args.slice(0, 2).join(' ')} printed ${check.lines} lines for ${c.rows} proxies`);
      c.open.max = 0;
      const requests = cluster.api.requests.length;
      const s = await sample(HOOK, [MESHCTL, ...c.args], { cwd: ROOT, runs, label: c.name });
      const perRun = Math.round((cluster.api.requests.length - requests) / (runs + 1));
      const note = `${check.lines} lines out; at most ${c.open.max} connection(s) open to the ${c.what} at once; ${perRun} API-server requests per run`;
      rows.push({ bench: 'proxy-status', name: c.name, sample: s, note });
      log(`  ${c.name}: ${fmt(s)}; ${note}`);
    }
  } finally {
    await cluster.close();
  }
}

async function benchBugReport(): Promise<void> {
  log('\n== 7. bug-report over 100 and 1,000 pods of the test harness');
  const harness = await loadHarness(ROOT);
  if (typeof harness === 'string') return skip('bug-report', 'bug-report', harness);
  const small = ensureData(10);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'meshctl-bench-bugreport-'));
  let base: Sample | undefined;
  try {
    for (const pods of [100, 1000]) {
      const cluster = await startLiveCluster(harness, path.join(OUT, `live-${pods}`), pods, 3, small.files.configDump);
      try {
        const out = path.join(tmp, `bundle-${pods}.tar.gz`);
        const args = ['bug-report', '-n', cluster.namespace, '-o', out, '--kubeconfig', cluster.kubeconfig];
        const requests = cluster.api.requests.length;
        cluster.envoyOpen.max = 0;
        // one run, no warm-up: it is network-bound and tens of seconds long on a loaded machine
        const r = await runNode(HOOK, [MESHCTL, ...args], { cwd: ROOT });
        if (r.code !== 0) {
          skip('bug-report', `bug-report, ${pods} pods`, `failed with exit ${r.code}: ${firstLine(r.stderr)}`);
          continue;
        }
        const s: Sample = { ms: r.ms, minMs: r.ms, rssMb: r.rssMb, cpuMs: r.cpuMs, runs: 1 };
        const note = `${mb(statSync(out).size)} MB bundle; at most ${cluster.envoyOpen.max} connection(s) open to the sidecars at once; ${cluster.api.requests.length - requests} API-server requests`;
        if (!base) {
          base = s;
          rows.push({ bench: 'bug-report', name: `bug-report, ${pods} pods (3 istiods)`, sample: s, note });
          log(`  bug-report, ${pods} pods: ${fmt(s)}; ${note}`);
        } else {
          add({ bench: 'bug-report', name: `bug-report, ${pods} pods (3 istiods); ${note}`, sample: s, baseline: { name: 'bug-report, 100 pods', sample: base }, target: { memory: 1.5 } });
        }
      } finally {
        await cluster.close();
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function benchBundleRead(runs: number, targetMb: number): Promise<void> {
  log(`\n== 8. one pod's dump from a ${targetMb} MB bundle vs proxy-config -f on the dump alone`);
  const data = ensureData(100);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'meshctl-bench-bundle-'));
  try {
    const file = path.join(tmp, 'big.tar.gz');
    const started = Date.now();
    const made = await makeBigBundle(file, data.files.configDump, targetMb * 1024 * 1024, data.files.clusters);
    log(`  made a ${mb(made.bytes)} MB bundle of ${made.members} members in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const args = ['proxy-config', 'clusters', `${TARGET_POD}.${TARGET_NS}`, '--bundle', file];
    const check = await probe(args);
    if (!check.ok) return skip('bundle', `proxy-config --bundle (${mb(made.bytes)} MB)`, check.why);
    const floorArgs = ['proxy-config', 'clusters', '-f', data.files.configDump];
    const floor = await sample(HOOK, [MESHCTL, ...floorArgs], { cwd: ROOT, runs, label: 'proxy-config -f' });
    const s = await sample(HOOK, [MESHCTL, ...args], { cwd: ROOT, runs, label: args.join(' ') });
    add({
      bench: 'bundle',
      name: `proxy-config clusters <pod> --bundle, a ${mb(made.bytes)} MB bundle (${mb(data.bytes.configDump)} MB dump, ${check.lines} lines out)`,
      sample: s,
      baseline: { name: `proxy-config -f the ${mb(data.bytes.configDump)} MB dump`, sample: floor },
      // reading the whole bundle would be tens of times the floor; opening it (locator, index, checks) costs a little
      target: { time: 2, memory: 1.5 },
    });
    // trace of the same pod: its dump and /clusters from the bundle (its rules: not captured, so assumed)
    const url = data.trace[0]?.url;
    if (url) {
      const traceArgs = ['trace', `${TARGET_POD}.${TARGET_NS}`, url, '--bundle', file];
      const tcheck = await probe(traceArgs);
      if (!tcheck.ok) return skip('bundle', `trace --bundle (${mb(made.bytes)} MB)`, tcheck.why);
      const tfloor = await sample(HOOK, [MESHCTL, 'trace', '-f', data.files.configDump, '--clusters', data.files.clusters, url], { cwd: ROOT, runs, label: 'trace -f' });
      const ts = await sample(HOOK, [MESHCTL, ...traceArgs], { cwd: ROOT, runs, label: traceArgs.join(' ') });
      add({
        bench: 'bundle',
        name: `trace <pod> ${url} --bundle, a ${mb(made.bytes)} MB bundle`,
        sample: ts,
        baseline: { name: `trace -f the dump --clusters its /clusters`, sample: tfloor },
        target: { time: 2, memory: 1.5 },
      });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function benchReport(n: number, runs: number): Promise<void> {
  log(`\n== 11. report -f on the ${n}-service dump (with its /clusters and --trace) vs proxy-config all -f on it`);
  const data = ensureData(n);
  const url = data.trace[0]?.url;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'meshctl-bench-report-'));
  try {
    const args = ['report', '-f', data.files.configDump, '-f', data.files.clusters, ...(url ? ['--trace', url] : []), '-o', path.join(tmp, 'report.html')];
    const check = await probe(args);
    if (!check.ok) return skip('report', `report -f, ${n} services`, check.why);
    const baseArgs = ['proxy-config', 'all', '-f', data.files.configDump];
    const base = await sample(HOOK, [MESHCTL, ...baseArgs], { cwd: ROOT, runs, label: 'proxy-config all -f' });
    const s = await sample(HOOK, [MESHCTL, ...args], { cwd: ROOT, runs, label: 'report -f' });
    add({
      bench: 'report',
      name: `report -f dump -f clusters${url ? ' --trace' : ''}, ${n} services (${mb(data.bytes.configDump)} MB dump, ${mb(statSync(path.join(tmp, 'report.html')).size)} MB page)`,
      sample: s,
      baseline: { name: `proxy-config all -f the same dump`, sample: base },
      // the page holds the same tables (plus /clusters' health and a trace); drawing them may cost as much again, not more
      target: n >= 1000 ? { time: 2, memory: 1.5 } : undefined,
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function benchZtunnelConfig(workloads: number, runs: number): Promise<void> {
  const services = workloads / 2;
  log(`\n== 9. ztunnel-config all -f <ztunnel dump> vs read + JSON.parse (${workloads} workloads, ${services} services)`);
  const data = ensureAmbient(workloads, services);
  const args = ['ztunnel-config', 'all', '-f', data.file];
  const check = await probe(args);
  if (!check.ok) return skip('ztunnel-config', `ztunnel-config all, ${workloads} workloads`, check.why);
  // In turns (floor, meshctl, floor, ...), as for authz: on a shared machine, load that comes and goes
  // then weighs on both alike, and the ratio is what the target is about.
  const [floor, s] = await sampleInTurns(HOOK, [{ args: ['-e', FLOOR_JSON, data.file], label: 'ztunnel floor' }, { args: [MESHCTL, ...args], label: args.join(' ') }], { cwd: ROOT, runs });
  log(`  floor: read + JSON.parse of ${mb(data.bytes)} MB: ${fmt(floor)}`);
  add({
    bench: 'ztunnel-config',
    name: `ztunnel-config all -f, ${workloads} workloads / ${services} services (${mb(data.bytes)} MB, ${check.lines} lines out)`,
    sample: s,
    baseline: { name: 'read + JSON.parse', sample: floor },
    target: workloads >= 10000 ? { time: 1.5, memory: 2 } : undefined,
  });
}

async function benchAmbientTrace(workloads: number, runs: number): Promise<void> {
  const services = workloads / 2;
  log(`\n== 10. trace --ztunnel-file <ztunnel dump> (ambient) vs read + JSON.parse (${workloads} workloads, ${services} services)`);
  const data = ensureAmbient(workloads, services);
  // a client pod of the dump's node, to a service without a waypoint (so the trace runs to the destination ztunnel)
  type W = { name: string; namespace: string; protocol?: string; node?: string; uid?: string };
  type S = { hostname: string; namespace: string; vips?: string[]; ports?: Record<string, number>; waypoint?: unknown; endpoints?: Record<string, unknown> };
  const dump = JSON.parse(readFileSync(data.file, 'utf8')) as { config?: { localNode?: string }; workloads: W[]; services: S[] };
  const client = dump.workloads.find((w) => w.protocol === 'HBONE' && w.node === dump.config?.localNode && w.uid?.includes('//Pod/'));
  const svc = dump.services.find((s) => !s.waypoint && s.vips?.length && Object.keys(s.endpoints ?? {}).length && Object.keys(s.ports ?? {}).length && !s.hostname.startsWith('waypoint'));
  if (!client || !svc) return skip('ambient-trace', `trace --ztunnel-file, ${workloads} workloads`, 'the generated dump has no captured pod or no service without a waypoint');
  const args = ['trace', '--ztunnel-file', data.file, `${client.name}.${client.namespace}`, `http://${svc.hostname}:${Object.keys(svc.ports!)[0]}/`, '--random', '1', '-o', 'json'];
  const check = await probe(args);
  if (!check.ok) return skip('ambient-trace', `trace --ztunnel-file, ${workloads} workloads`, check.why);
  const floor = await sample(HOOK, ['-e', FLOOR_JSON, data.file], { cwd: ROOT, runs, label: 'floor' });
  log(`  floor: read + JSON.parse of ${mb(data.bytes)} MB: ${fmt(floor)}`);
  const s = await sample(HOOK, [MESHCTL, ...args], { cwd: ROOT, runs, label: 'trace --ztunnel-file' });
  add({
    bench: 'ambient-trace',
    name: `trace --ztunnel-file, ${workloads} workloads / ${services} services (${mb(data.bytes)} MB): ${client.namespace}/${client.name} → ${svc.hostname}`,
    sample: s,
    baseline: { name: 'read + JSON.parse', sample: floor },
    target: workloads >= 10000 ? { time: 1.5, memory: 2 } : undefined,
  });
}

interface AmbientMeta {
  generatorVersion: number;
  workloads: number;
  services: number;
  seed: number;
  bytes: number;
  file: string;
}

/** The generated ambient mesh's ztunnel dump under bench/out, regenerated when missing or of another generator. */
function ensureAmbient(workloads: number, services: number): AmbientMeta {
  const dir = path.join(OUT, `ambient-${workloads}`);
  const metaFile = path.join(dir, 'meta.json');
  const generator = path.join(ROOT, 'fixtures', 'ztunnel', 'generate.mjs');
  const version = Number(/const GENERATOR_VERSION = (\d+);/.exec(readFileSync(generator, 'utf8'))?.[1]);
  const read = (): AmbientMeta | null => (existsSync(metaFile) ? (JSON.parse(readFileSync(metaFile, 'utf8')) as AmbientMeta) : null);
  let meta = read();
  if (!meta || meta.generatorVersion !== version || meta.workloads !== workloads || meta.services !== services || meta.seed !== 1 || !existsSync(meta.file)) {
    log(`  generating ${workloads} workloads into ${path.relative(ROOT, dir)} ...`);
    const r = spawnSync(process.execPath, [generator, '--workloads', String(workloads), '--services', String(services), '--out', dir], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`generating the ambient mesh of ${workloads} workloads failed`);
    meta = read()!;
  }
  return meta;
}

/** Runs meshctl once, output kept, to see that the command exists here and succeeds on this input. */
async function probe(args: string[], okCodes = [0]): Promise<{ ok: true; lines: number; stdout: string } | { ok: false; why: string }> {
  const file = path.join(OUT, 'probe.out');
  const r = await runNode(HOOK, [MESHCTL, ...args], { cwd: ROOT, stdoutFile: file });
  const stdout = readFileSync(file, 'utf8');
  if (!okCodes.includes(r.code ?? -1)) {
    const said = firstLine(r.stderr) || '(no message)';
    const missing = /unknown command|not built|not implemented/i.test(said);
    return { ok: false, why: missing ? `not on this branch yet (meshctl: ${said})` : `failed with exit ${r.code}: ${said}` };
  }
  if (stdout.length === 0) return { ok: false, why: 'printed nothing' };
  return { ok: true, lines: stdout.split('\n').length - 1, stdout };
}

/** The generated mesh of n services under bench/out, regenerated when missing or stale. */
function ensureData(n: number, resources = false): GenerateSummary {
  const dir = path.join(OUT, `svc-${n}`);
  const metaFile = path.join(dir, 'meta.json');
  const read = (): GenerateSummary | null => (existsSync(metaFile) ? (JSON.parse(readFileSync(metaFile, 'utf8')) as GenerateSummary) : null);
  let meta = read();
  if (!meta || meta.generatorVersion !== GENERATOR_VERSION || meta.services !== n || meta.seed !== 1 || (resources && !meta.files.resources)) {
    log(`  generating ${n} services into ${path.relative(ROOT, dir)} ...`);
    const args = [path.join(ROOT, 'dist', 'bench', 'gen.js'), '--services', String(n), '--out', dir];
    if (!resources && n > 1000) args.push('--no-resources');
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`generating ${n} services failed`);
    meta = read()!;
  }
  return meta;
}

function add(row: Row): void {
  if (!row.baseline) throw new Error('add() is for rows with a baseline');
  rows.push(row);
  log(`  ${row.name}: ${fmt(row.sample!)}  ${ratios(row)}${verdict(row) ? '  ' + verdict(row) : ''}`);
}

function skip(bench: Bench, name: string, why: string): void {
  rows.push({ bench, name, skipped: why });
  log(`  SKIPPED ${name}: ${why}`);
}

// Time is judged on CPU time (user + system, median of the runs): on a shared machine wall-clock time
// swings with the load, while the work a process does does not. Best-of-runs wall time is shown too.
const cpuRatio = (r: Row) => r.sample!.cpuMs / r.baseline!.sample.cpuMs;
const wallRatio = (r: Row) => r.sample!.minMs / r.baseline!.sample.minMs;
const memRatio = (r: Row) => r.sample!.rssMb / r.baseline!.sample.rssMb;

function ratios(r: Row): string {
  if (!r.baseline) return '';
  return `= ${cpuRatio(r).toFixed(2)}x cpu time (wall ${wallRatio(r).toFixed(2)}x), ${memRatio(r).toFixed(2)}x memory of ${r.baseline.name}`;
}

function verdict(r: Row): string {
  if (!r.target || !r.baseline) return '';
  const fails: string[] = [];
  if (r.target.time && cpuRatio(r) > r.target.time) fails.push(`time > ${r.target.time}x`);
  if (r.target.memory && memRatio(r) > r.target.memory) fails.push(`memory > ${r.target.memory}x`);
  return fails.length ? `MISSES TARGET (${fails.join(', ')})` : 'meets target';
}

function fmt(s: Sample): string {
  return `cpu ${Math.round(s.cpuMs)} ms, wall ${Math.round(s.minMs)} ms best (${Math.round(s.ms)} median), ${Math.round(s.rssMb)} MB peak RSS`;
}

function report(): void {
  const lines = [
    `## Run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${machine()}; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}. Commit ${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain') ? ' (with uncommitted changes)' : ''}.`,
    '',
    '| benchmark | case | cpu time | wall (best) | peak RSS | baseline, same run (cpu / wall / RSS) | ratio cpu | ratio wall | ratio memory | target |',
    '|---|---|---:|---:|---:|---|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    if (r.skipped) {
      lines.push(`| ${r.bench} | ${r.name} | | | | | | | | skipped: ${r.skipped} |`);
      continue;
    }
    const b = r.baseline;
    const s = r.sample!;
    const target = r.target ? [r.target.time && `≤${r.target.time}x time`, r.target.memory && `≤${r.target.memory}x memory`].filter(Boolean).join(', ') + ` — ${verdict(r)}` : '';
    const base = b ? `${b.name}: ${Math.round(b.sample.cpuMs)} ms / ${Math.round(b.sample.minMs)} ms / ${Math.round(b.sample.rssMb)} MB` : '';
    const x = (f: (r: Row) => number) => (b ? f(r).toFixed(2) + 'x' : '');
    lines.push(`| ${r.bench} | ${r.name} | ${Math.round(s.cpuMs)} ms | ${Math.round(s.minMs)} ms | ${Math.round(s.rssMb)} MB | ${base} | ${x(cpuRatio)} | ${x(wallRatio)} | ${x(memRatio)} | ${r.note ?? target} |`);
  }
  const md = lines.join('\n') + '\n';
  writeFileSync(path.join(OUT, 'results.md'), md);
  writeFileSync(path.join(OUT, 'results.json'), JSON.stringify({ machine: machine(), date: new Date().toISOString(), rows }, null, 2) + '\n');
  log(`\nWritten ${path.relative(ROOT, path.join(OUT, 'results.md'))} (paste into bench/RESULTS.md when the figures change).`);
  if (rows.some((r) => verdict(r).startsWith('MISSES'))) process.exitCode = 1;
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

function git(...args: string[]): string {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

const mb = (bytes: number) => (bytes / 1048576).toFixed(0);
const log = (s: string) => process.stdout.write(s + '\n');

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
