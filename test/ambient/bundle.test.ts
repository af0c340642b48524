import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type AmbientCluster, startAmbientCluster } from '../harness/ambient.js';
import type { KubeObject } from '../harness/apiserver.js';
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
let shared: CliResult;
let c: AmbientCluster;

/**
 * A waypoint of mesh-waypoints for all traffic, used from outside: by a namespace whose label names it (its
 * pod and Service inherit the label) and by a pod of batch labelled for it. A bundle of mesh-waypoints holds
 * them (bug-report lists the labelled pods of every namespace, and every pod of such a namespace), so its
 * waypoints show the same users as live.
 */
const USERS: KubeObject[] = [
  {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway',
    metadata: { name: 'tenant-wp', namespace: 'mesh-waypoints', labels: { 'istio.io/waypoint-for': 'all' } },
    spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE', allowedRoutes: { namespaces: { from: 'All' } } }] },
    status: {
      addresses: [{ type: 'Hostname', value: 'tenant-wp.mesh-waypoints.svc.cluster.local' }],
      conditions: [
        { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Resource accepted' },
        { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'Resource programmed, assigned to service(s) tenant-wp.mesh-waypoints.svc.cluster.local:15008' },
      ],
    },
  },
  {
    apiVersion: 'v1', kind: 'Namespace',
    metadata: { name: 'tenants', labels: { 'kubernetes.io/metadata.name': 'tenants', 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'tenant-wp', 'istio.io/use-waypoint-namespace': 'mesh-waypoints' } },
  },
  {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'portal', namespace: 'tenants', labels: { app: 'portal' } },
    spec: { selector: { app: 'portal' }, clusterIP: '10.96.40.10', ports: [{ name: 'http', port: 8080 }] },
  },
  {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'portal-6b7c8d9f5-kxzvq', namespace: 'tenants', labels: { app: 'portal' }, annotations: { 'ambient.istio.io/redirection': 'enabled' } },
    spec: { nodeName: 'worker-1', serviceAccountName: 'portal', containers: [{ name: 'portal', image: 'registry.example.com/portal:2.0' }] },
    status: { phase: 'Running', podIP: '10.244.1.40', hostIP: '192.168.10.1' },
  },
  {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: 'report-cron-29310-wq4lx', namespace: 'batch',
      labels: { app: 'report', 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'tenant-wp', 'istio.io/use-waypoint-namespace': 'mesh-waypoints' },
      annotations: { 'ambient.istio.io/redirection': 'enabled' },
    },
    spec: { nodeName: 'worker-2', serviceAccountName: 'report', containers: [{ name: 'report', image: 'registry.example.com/report:1.0' }] },
    status: { phase: 'Running', podIP: '10.244.2.41', hostIP: '192.168.10.2' },
  },
];

const env = () => ({ HOME: dir, KUBECONFIG: undefined });
const bundleOf = (name: string) => path.join(dir, `${name}.tar.gz`);

async function capture(cl: AmbientCluster, name: string, select: string[]): Promise<CliResult> {
  return runCli(['bug-report', ...select, '-o', bundleOf(name), '--kubeconfig', cl.kubeconfig], { env: env(), timeoutMs: 120_000 });
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-waypoint-bundle-'));
  // the context's namespace is payments: a bundle answers `waypoint list` without -n for it, as live
  c = await startAmbientCluster({ namespace: 'payments', extra: USERS });
  clusters.push(c);
  full = await capture(c, 'full', ['-A']);
  if (full.code === 0) await unpack(bundleOf('full'), path.join(dir, 'full'));
  shared = await capture(c, 'shared', ['-n', 'mesh-waypoints']);
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

/** Asked of the bundle of mesh-waypoints alone: its waypoints' users elsewhere are in it. */
const SHARED: string[][] = [
  ['waypoint', 'list', '-n', 'mesh-waypoints', '-o', 'wide'],
  ['waypoint', 'list', '-n', 'mesh-waypoints', '-o', 'json'],
  ['waypoint', 'status', '-n', 'mesh-waypoints'],
  ['waypoint', 'status', '--waypoint-name', 'tenant-wp', '-n', 'mesh-waypoints', '-o', 'yaml'],
];

test('waypoint list and status from --bundle print what they print live (tar.gz and unpacked directory)', async () => {
  assert.equal(full.code, 0, full.stderr);
  assert.equal(shared.code, 0, shared.stderr);
  const runs = [
    ...COMMANDS.flatMap((args) => [
      { args, mode: 'live', argv: [...args, '--kubeconfig', c.kubeconfig] },
      { args, mode: 'bundle', argv: [...args, '--bundle', bundleOf('full')] },
      { args, mode: 'dir', argv: [...args, '--bundle', path.join(dir, 'full')] },
    ]),
    ...SHARED.flatMap((args) => [
      { args, mode: 'live', argv: [...args, '--kubeconfig', c.kubeconfig] },
      { args, mode: 'bundle of mesh-waypoints', argv: [...args, '--bundle', bundleOf('shared')] },
    ]),
  ];
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
    assert.deepEqual(restResults[i], l, `${what}: --bundle (${r.mode}) differs from live`);
  }
  // and the answers are the waypoints, not empty tables
  const wide = liveResults[1];
  assert.match(wide.stdout, /\npayments +ledger-wp +canary +all +True +service ledger\.payments, pod ledger-v1-8c9d7b6f5-pqrst\.payments\n/);
  assert.match(wide.stdout, /\nshop +waypoint +default +service +True +namespace shop, service web\.shop\n/);
  assert.match(wide.stderr, /^Warning: service search\.shop: istio\.io\/use-waypoint names waypoint shop\/search-wp, which does not exist/m);
  assert.match(liveResults[2].stdout, /^NAME +REVISION .*\nledger-wp +canary +all +True /);
  assert.match(liveResults[7].stdout, /\ninventory-wp +False +Programmed +NoResources /);
  // tenant-wp's users in other namespaces: the labelled namespace with its service and pod, and batch's labelled pod
  const sharedWide = liveResults[COMMANDS.length];
  assert.match(sharedWide.stdout, /\ntenant-wp +default +all +True +namespace tenants, service portal\.tenants, pod report-cron-29310-wq4lx\.batch, pod portal-6b7c8d9f5-kxzvq\.tenants\n/);
  assert.doesNotMatch(sharedWide.stderr, /holds|cannot list/);
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
  // Gateways and Services are collected cluster-wide, and labelled pods in every namespace: the table is
  // there, pods labelled elsewhere too (debug-shell.shop); the pods of namespaces labelled for another
  // namespace's waypoint are not, and the warning names them
  assert.match(all.stdout, /\npayments +ledger-wp +canary +all +True +service ledger\.payments, pod ledger-v1-8c9d7b6f5-pqrst\.payments\n/);
  assert.match(all.stderr, /^Warning: pod debug-shell\.shop: istio\.io\/use-waypoint names waypoint shop\/waypoint/m);
  assert.doesNotMatch(all.stderr, /holds the pods of namespaces/);
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

test('waypoint --bundle: a pod list refused cluster-wide at capture (-A) was listed namespace by namespace: the bundle answers as live', async () => {
  const denied = await startAmbientCluster({ deny: [{ verb: 'list', resource: 'pods', clusterWideOnly: true }] });
  clusters.push(denied);
  const made = await capture(denied, 'pods-refused', ['-A']);
  assert.equal(made.code, 0, made.stderr);
  const [live, fromBundle] = await Promise.all([
    runCli(['waypoint', 'list', '-n', 'shop', '-o', 'wide', '--kubeconfig', denied.kubeconfig], { env: env() }),
    runCli(['waypoint', 'list', '-n', 'shop', '-o', 'wide', '--bundle', bundleOf('pods-refused')], { env: env() }),
  ]);
  // the cluster-wide list is refused from the bundle in the words it was refused live; shop's own list answered
  assert.match(live.stderr, /^Warning: cannot list pods in all namespaces \(forbidden \(403\): .*\(cluster-wide\)\): only those in shop are checked$/m);
  assert.doesNotMatch(live.stderr, /cannot list pods in namespace shop/);
  assert.deepEqual(fromBundle, live);
});

test('waypoint --bundle: a pod list refused cluster-wide at capture, namespaces refused too, is said as refused then, not as a refusal of the namespace', async () => {
  const denied = await startAmbientCluster({ deny: [{ verb: 'list', resource: 'pods', clusterWideOnly: true }, { verb: 'list', resource: 'namespaces' }] });
  clusters.push(denied);
  const made = await capture(denied, 'pods-ns-refused', ['-A']);
  assert.equal(made.code, 0, made.stderr);
  const [live, fromBundle] = await Promise.all([
    runCli(['waypoint', 'list', '-n', 'shop', '-o', 'wide', '--kubeconfig', denied.kubeconfig], { env: env() }),
    runCli(['waypoint', 'list', '-n', 'shop', '-o', 'wide', '--bundle', bundleOf('pods-ns-refused')], { env: env() }),
  ]);
  // the cluster-wide list is refused from the bundle in the words it was refused live
  const wide = /^Warning: cannot list pods in all namespaces \(forbidden \(403\): .*\(cluster-wide\)\): only those in shop are checked$/m;
  assert.match(live.stderr, wide);
  assert.equal(fromBundle.stderr.match(wide)?.[0], live.stderr.match(wide)?.[0]);
  // live, shop's own list is then answered; the bundle never asked it, and says what was refused at capture
  assert.doesNotMatch(live.stderr, /cannot list pods in namespace shop/);
  assert.match(
    fromBundle.stderr,
    /^Warning: cannot list pods in namespace shop: bundle .*pods-ns-refused\.tar\.gz holds no pods of namespace shop: at capture the list of every namespace was refused \(forbidden \(403\): user "[^"]+" may not list pods: RBAC needs verb "list" on resource "pods" \(cluster-wide\)\)$/m,
  );
});
