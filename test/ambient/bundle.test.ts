import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type AmbientCluster, startAmbientCluster } from '../harness/ambient.js';
import { GATEWAY_API, notInstalled } from '../harness/served.js';
import { type CliResult, fixture, isOneLineError, pool, runCli } from '../helpers.js';
import { unpack } from '../bugreport/util.js';

/**
 * `waypoint list|status --bundle`: a bundle that bug-report captured from the API-server stand-in serving
 * fixtures/ambient answers as the stand-in answered live (stdout, stderr, exit code), without asking it.
 */
const clusters: AmbientCluster[] = [];
let dir: string;
let full: CliResult;
let c: AmbientCluster;

const env = () => ({ HOME: dir, KUBECONFIG: undefined });
const bundleOf = (name: string) => path.join(dir, `${name}.tar.gz`);

async function capture(cl: AmbientCluster, name: string, select: string[]): Promise<CliResult> {
  return runCli(['bug-report', ...select, '-o', bundleOf(name), '--kubeconfig', cl.kubeconfig], { env: env(), timeoutMs: 120_000 });
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-waypoint-bundle-'));
  // the context's namespace is payments: a bundle answers `waypoint list` without -n for it, as live
  c = await startAmbientCluster({ namespace: 'payments' });
  clusters.push(c);
  full = await capture(c, 'full', ['-A']);
  if (full.code === 0) await unpack(bundleOf('full'), path.join(dir, 'full'));
});

after(async () => {
  await Promise.all(clusters.map((cl) => cl.close()));
  rmSync(dir, { recursive: true, force: true });
});

const COMMANDS: string[][] = [
  ['waypoint', 'list', '-A'],
  ['waypoint', 'list', '-A', '-o', 'wide'],
  ['waypoint', 'list', '-o', 'wide'], // the context's namespace
  ['waypoint', 'list', '-n', 'shop', '-o', 'json'], // shop's objects inherit its namespace's waypoint
  ['waypoint', 'list', '-A', '--revision', 'canary', '-o', 'yaml'],
  ['waypoint', 'list', '-n', 'batch'], // none
  ['waypoint', 'status', '-A'],
  ['waypoint', 'status', '-n', 'inventory'],
  ['waypoint', 'status', '--waypoint-name', 'waypoint', '-n', 'shop', '-o', 'yaml'],
];

test('waypoint list and status from --bundle print what they print live (tar.gz and unpacked directory)', async () => {
  assert.equal(full.code, 0, full.stderr);
  const runs = COMMANDS.flatMap((args) => [
    { args, mode: 'live', argv: [...args, '--kubeconfig', c.kubeconfig] },
    { args, mode: 'bundle', argv: [...args, '--bundle', bundleOf('full')] },
    { args, mode: 'dir', argv: [...args, '--bundle', path.join(dir, 'full')] },
  ]);
  const live = runs.filter((r) => r.mode === 'live');
  const liveResults = await pool(live, 3, (r) => runCli(r.argv, { env: env() }));
  const asked = c.api.requests.length;
  const rest = runs.filter((r) => r.mode !== 'live');
  const restResults = await pool(rest, 3, (r) => runCli(r.argv, { env: env() }));
  // the bundle answers without the API server
  assert.equal(c.api.requests.length, asked);
  for (const [i, r] of rest.entries()) {
    const what = r.args.join(' ');
    const l = liveResults[live.findIndex((x) => x.args === r.args)];
    assert.equal(l.code, 0, `${what}: ${l.stderr}`);
    assert.deepEqual(restResults[i], l, `${what}: --bundle ${r.mode === 'dir' ? 'DIR ' : ''}differs from live`);
  }
  // and the answers are the waypoints, not empty tables
  const wide = liveResults[1];
  assert.match(wide.stdout, /\npayments +ledger-wp +canary +all +True +service ledger\.payments, pod ledger-v1-8c9d7b6f5-pqrst\.payments\n/);
  assert.match(wide.stdout, /\nshop +waypoint +default +service +True +namespace shop, service web\.shop\n/);
  assert.match(wide.stderr, /^Warning: service search\.shop: istio\.io\/use-waypoint names waypoint shop\/search-wp, which does not exist/m);
  assert.match(liveResults[2].stdout, /^NAME +REVISION .*\nledger-wp +canary +all +True /);
  assert.match(liveResults[7].stdout, /\ninventory-wp +False +Programmed +NoResources /);
});

test('waypoint --bundle: no Gateway API at capture is the same warning as live', async () => {
  const none = await startAmbientCluster({ served: notInstalled(GATEWAY_API) });
  clusters.push(none);
  const made = await capture(none, 'no-gateway-api', ['-A']);
  assert.equal(made.code, 0, made.stderr);
  const [live, fromBundle] = await Promise.all([
    runCli(['waypoint', 'list', '-A', '--kubeconfig', none.kubeconfig], { env: env() }),
    runCli(['waypoint', 'list', '-A', '--bundle', bundleOf('no-gateway-api')], { env: env() }),
  ]);
  assert.deepEqual(fromBundle, live);
  assert.equal(live.stdout, 'No waypoints found.\n');
  assert.match(live.stderr, /^Warning: the cluster serves no Gateway API Gateways \(gateways\.gateway\.networking\.k8s\.io: 404\)/);
});

test('waypoint --bundle of some namespaces: what the bundle lacks is a warning naming it, never silence', async () => {
  assert.equal(full.code, 0, full.stderr);
  const made = await capture(c, 'payments', ['-n', 'payments']);
  assert.equal(made.code, 0, made.stderr);
  const all = await runCli(['waypoint', 'list', '-A', '-o', 'wide', '--bundle', bundleOf('payments')], { env: env() });
  assert.equal(all.code, 0, all.stderr);
  // Gateways and Services are collected cluster-wide: the table is there; pods only of the selected namespaces
  assert.match(all.stdout, /\npayments +ledger-wp +canary +all +True +service ledger\.payments, pod ledger-v1-8c9d7b6f5-pqrst\.payments\n/);
  assert.match(all.stderr, /^Warning: bundle .*payments\.tar\.gz holds the pods of namespaces istio-system, payments only: those elsewhere are not checked$/m);
  assert.match(all.stderr, /^Warning: cannot list pods in namespace shop: bundle .*payments\.tar\.gz holds no pods of namespace shop \(it holds those of payments, istio-system\)$/m);
});

test('waypoint --bundle: with --files, or with --wait, is one usage error', async () => {
  const files = await runCli(['waypoint', 'list', '--bundle', bundleOf('full'), '--files', fixture('ambient')], { env: env() });
  assert.notEqual(files.code, 0);
  assert.ok(isOneLineError(files.stderr), files.stderr);
  assert.match(files.stderr, /give either --bundle \(the captured cluster\) or --files \(saved resources\), not both/);
  const wait = await runCli(['waypoint', 'status', '-n', 'shop', '--wait', '--bundle', bundleOf('full')], { env: env() });
  assert.notEqual(wait.code, 0);
  assert.ok(isOneLineError(wait.stderr), wait.stderr);
  assert.match(wait.stderr, /--wait works only for waypoint status on a live cluster \(not with --files or --bundle\)/);
  const kubeconfig = await runCli(['waypoint', 'list', '--bundle', bundleOf('full'), '--kubeconfig', c.kubeconfig], { env: env() });
  assert.match(kubeconfig.stderr, /--bundle reads a captured cluster instead of a live one: drop --kubeconfig and --context/);
});
