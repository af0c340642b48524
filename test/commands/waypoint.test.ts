import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fixture, isOneLineError, runCli } from '../helpers.js';

/** `meshctl waypoint list|status` offline, on the hand-written ambient mesh of fixtures/ambient. */
const AMBIENT = fixture('ambient');
const dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-waypoint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('waypoint list: istioctl columns, all namespaces of the files, sorted by namespace and name', async () => {
  const r = await runCli(['waypoint', 'list', '--files', AMBIENT]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      'NAMESPACE          NAME                REVISION     TRAFFIC TYPE     PROGRAMMED',
      'inventory          inventory-wp        default      service          False',
      'mesh-waypoints     restricted-wp       default      service          True',
      'mesh-waypoints     shared-waypoint     default      service          True',
      'payments           ledger-wp           canary       all              True',
      'shop               waypoint            default      service          True',
      '',
    ].join('\n'),
  );
  // the ingress Gateway (class istio) is no waypoint; the labels' problems go to stderr, the table stays istioctl's
  assert.doesNotMatch(r.stdout, /public/);
  assert.match(r.stderr, /^Warning: service search\.shop: istio\.io\/use-waypoint names waypoint shop\/search-wp, which does not exist; istiod reports WaypointIsNotReady$/m);
  assert.match(r.stderr, /^Warning: service audit\.payments: .*mesh-waypoints\/restricted-wp, which does not admit namespace payments .*AttachmentDenied$/m);
  assert.match(r.stderr, /^Warning: pod debug-shell\.shop: .*shop\/waypoint, which takes only service traffic .*UnsupportedTrafficType$/m);
  assert.match(r.stderr, /^Warning: namespace inventory: .*inventory\/inventory-wp, which is not ready: no address in its status yet, Programmed is False \(NoResources\)/m);
});

test('waypoint list -n: that namespace without the NAMESPACE column; -o wide: what uses each', async () => {
  const r = await runCli(['waypoint', 'list', '-n', 'shop', '--files', AMBIENT, '-o', 'wide']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    'NAME         REVISION     TRAFFIC TYPE     PROGRAMMED     USED BY\nwaypoint     default      service          True           namespace shop, service web.shop\n',
  );
  // only the problems of labels naming waypoints of this namespace
  assert.doesNotMatch(r.stderr, /audit|inventory/);
  assert.match(r.stderr, /search-wp/);
  const wide = await runCli(['waypoint', 'list', '-A', '--files', AMBIENT, '-o', 'wide']);
  assert.match(wide.stdout, /\npayments +ledger-wp +canary +all +True +service ledger\.payments, pod ledger-v1-8c9d7b6f5-pqrst\.payments\n/);
  assert.match(wide.stdout, /\nmesh-waypoints +shared-waypoint +default +service +True +service fraud\.payments\n/);
  // not ready yet: its namespace and service still count among its users
  assert.match(wide.stdout, /\ninventory +inventory-wp +default +service +False +namespace inventory, service stock\.inventory\n/);
  assert.match(wide.stdout, /\nmesh-waypoints +restricted-wp +default +service +True +-\n/);
});

test('waypoint list filters: --waypoint-name (and istioctl --name), --revision; none found', async () => {
  const byName = await runCli(['waypoint', 'list', '--files', AMBIENT, '--waypoint-name', 'ledger-wp']);
  assert.equal(byName.stdout.split('\n').length, 3);
  assert.match(byName.stdout, /\npayments +ledger-wp +canary/);
  const istioctl = await runCli(['waypoint', 'list', '--files', AMBIENT, '--name', 'ledger-wp']);
  assert.equal(istioctl.stdout, byName.stdout);
  const rev = await runCli(['waypoint', 'list', '--files', AMBIENT, '--revision', 'canary']);
  assert.match(rev.stdout, /^NAMESPACE +NAME +REVISION +TRAFFIC TYPE +PROGRAMMED\npayments +ledger-wp +canary +all +True\n$/);
  const none = await runCli(['waypoint', 'list', '--files', AMBIENT, '-n', 'batch']);
  assert.equal(none.code, 0);
  assert.equal(none.stdout, 'No waypoints found.\n');
});

test('waypoint status: one row per condition, istioctl columns', async () => {
  const r = await runCli(['waypoint', 'status', '-n', 'inventory', '--files', AMBIENT]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      'NAME             STATUS     TYPE           REASON          MESSAGE',
      'inventory-wp     True       Accepted       Accepted        Resource accepted',
      'inventory-wp     False      Programmed     NoResources     Deployment inventory/inventory-wp has no ready replicas',
      '',
    ].join('\n'),
  );
  const all = await runCli(['waypoint', 'status', '--files', AMBIENT, '--waypoint-name', 'waypoint']);
  assert.match(all.stdout, /^NAMESPACE +NAME +STATUS +TYPE +REASON +MESSAGE\nshop +waypoint +True +Accepted +Accepted +Resource accepted\nshop +waypoint +True +Programmed +Programmed +Resource programmed, assigned to service\(s\) waypoint\.shop\.svc\.cluster\.local:15008\n$/);
});

test('waypoint list|status -o json|yaml: the whole report, problems included, nothing on stderr', async () => {
  const r = await runCli(['waypoint', 'list', '-n', 'payments', '--files', AMBIENT, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const data = JSON.parse(r.stdout) as { waypoints: { name: string; trafficType: string; trafficTypeFrom: string; usedBy: Record<string, string[]> }[]; problems: string[] };
  assert.deepEqual(data.waypoints.map((w) => [w.name, w.trafficType, w.trafficTypeFrom]), [['ledger-wp', 'all', 'gateway']]);
  assert.deepEqual(data.waypoints[0].usedBy, { namespaces: [], services: ['payments/ledger'], workloads: ['payments/ledger-v1-8c9d7b6f5-pqrst'] });
  const y = await runCli(['waypoint', 'status', '-n', 'inventory', '--files', AMBIENT, '-o', 'yaml']);
  assert.match(y.stdout, /^waypoints:\n  - name: inventory-wp\n/);
  assert.match(y.stdout, /\nproblems:\n  - 'namespace inventory: istio\.io\/use-waypoint names waypoint inventory\/inventory-wp/);
});

test('waypoint: bad input is one clear line naming the file; wrong flags are usage errors', async () => {
  const broken = path.join(dir, 'broken.yaml');
  writeFileSync(broken, 'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: [unclosed\n');
  const r = await runCli(['waypoint', 'list', '--files', broken]);
  assert.equal(r.code, 1);
  assert.ok(isOneLineError(r.stderr), r.stderr);
  assert.match(r.stderr, /^Error: .*broken\.yaml:\d+: /);

  const missing = await runCli(['waypoint', 'status', '--files', path.join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 1);
  assert.ok(isOneLineError(missing.stderr), missing.stderr);
  assert.match(missing.stderr, /nope\.yaml/);

  if (process.getuid?.() !== 0) {
    const locked = path.join(dir, 'locked.yaml');
    writeFileSync(locked, 'kind: Namespace\n');
    chmodSync(locked, 0o000);
    const unreadable = await runCli(['waypoint', 'list', '--files', locked]);
    assert.equal(unreadable.code, 1);
    assert.ok(isOneLineError(unreadable.stderr), unreadable.stderr);
    assert.match(unreadable.stderr, /locked\.yaml/);
  }

  // a Gateway whose fields are of the wrong type is shown as far as it can be, never a crash
  const odd = path.join(dir, 'odd.yaml');
  writeFileSync(
    odd,
    'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: odd\n  namespace: x\n  labels: 5\nspec:\n  gatewayClassName: istio-waypoint\n  listeners: 7\nstatus:\n  conditions: nope\n  addresses: [3, null]\n',
  );
  const o = await runCli(['waypoint', 'status', '--files', odd]);
  assert.equal(o.code, 0, o.stderr);
  assert.match(o.stdout, /\nx +odd +Unknown +Programmed +NoStatus +the gateway controller has reported no condition yet\n$/);
  const ol = await runCli(['waypoint', 'list', '--files', odd, '-o', 'wide']);
  assert.match(ol.stdout, /\nx +odd +default +service +False +-\n$/);

  for (const args of [
    ['waypoint', 'list', '-A', '-n', 'shop', '--files', AMBIENT],
    ['waypoint', 'status', '--wait', '--files', AMBIENT],
    ['waypoint', 'list', '-o', 'table', '--files', AMBIENT],
    ['waypoint', 'status', '-o', 'wide', '--files', AMBIENT],
  ]) {
    const u = await runCli(args);
    assert.equal(u.code, 2, `${args.join(' ')}: ${u.stderr}`);
    assert.ok(isOneLineError(u.stderr), u.stderr);
  }
});
