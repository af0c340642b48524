import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { loadLive } from '../../src/describe/live.js';
import { loadMeshObjects } from '../../src/describe/load.js';
import { defaultMeshSettings } from '../../src/describe/mesh.js';
import type { MeshObjects, Service } from '../../src/describe/objects.js';
import { describeService } from '../../src/describe/report.js';
import type { KubeObject } from '../harness/apiserver.js';
import { standIns } from '../harness/stand-ins.js';
import { fixture, runCli, withoutOrigin as strip } from '../helpers.js';

/** Live describe of services with Gateway API mesh routes: the same routes, checks and precedence as from the files. */
const FILES = fixture('describe', 'gateway-api-mesh');
const objects = (yaml.loadAll(readFileSync(path.join(FILES, 'objects.yaml'), 'utf8')) as KubeObject[]).filter((o) => o && typeof o === 'object');
const stand = standIns('meshctl-describe-mesh-routes-');

const report = (o: MeshObjects, svc: Service, ns: string) => describeService(o, svc, { mesh: defaultMeshSettings(), currentNamespace: ns });

test('live: mesh routes, their checks and the VirtualService precedence come out as offline', async () => {
  const { options } = await stand.start(objects);
  const offline = await loadMeshObjects([FILES]);
  for (const [name, ns] of [
    ['reviews', 'shop'],
    ['ratings', 'amb'],
    ['details', 'amb'],
    ['reviews-v2', 'shop'],
  ]) {
    const live = await loadLive('service', `${name}.${ns}`, options, false);
    assert.deepEqual(live.warnings, []);
    const fromCluster = report(live.objects, live.target as Service, ns);
    const fromFiles = report(offline, offline.services.find((s) => s.metadata?.name === name && s.metadata?.namespace === ns)!, ns);
    assert.ok(fromCluster.service.meshRoutes?.length || fromCluster.service.meshRoutesVia?.length, `${name}: routes read`);
    assert.deepEqual(strip(fromCluster.service.meshRoutes ?? []), strip(fromFiles.service.meshRoutes ?? []));
    assert.deepEqual(fromCluster.warnings, fromFiles.warnings);
    assert.deepEqual(strip(fromCluster.service.meshRoutesVia ?? []), strip(fromFiles.service.meshRoutesVia ?? []));
  }

  const r = await runCli(['describe', 'service', 'reviews', '-n', 'shop', '--kubeconfig', options.kubeconfig!]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\nHTTPRoute: reviews-split \(mesh route on service reviews, port 9080\)\n {3}Rule 1 \(Match: \/api\* when headers are x-canary=true\) -> reviews-v2:9080 with weight 100%\n/);
  assert.match(r.stdout, /\nWARNING: sidecars in other namespaces route host reviews\.shop\.svc\.cluster\.local by VirtualService shop\/reviews alone; /);
  const d = await runCli(['describe', 'service', 'details', '-n', 'amb', '--kubeconfig', options.kubeconfig!]);
  assert.match(d.stdout, /WARNING: TCPRoute amb\/details: service details\.amb is in ambient mode and has no waypoint/);
});

test('bug-report collects the routes; describe --bundle shows the mesh routes as the live cluster does', async () => {
  const { options } = await stand.start(objects);
  const bundle = path.join(stand.dir(), 'bundle.tar.gz');
  const capture = await runCli(['bug-report', '-A', '-o', bundle, '--kubeconfig', options.kubeconfig!, '--no-include-istiod'], { timeoutMs: 120_000 });
  assert.equal(capture.code, 0, capture.stderr);
  for (const [svc, ns] of [
    ['reviews', 'shop'],
    ['reviews-v2', 'shop'],
    ['details', 'amb'],
  ]) {
    const live = await runCli(['describe', 'service', svc, '-n', ns, '--kubeconfig', options.kubeconfig!]);
    const fromBundle = await runCli(['describe', 'service', svc, '-n', ns, '--bundle', bundle]);
    assert.equal(fromBundle.code, 0, fromBundle.stderr);
    assert.equal(fromBundle.stdout, live.stdout);
  }
  const r = await runCli(['describe', 'service', 'reviews-v2', '-n', 'shop', '--bundle', bundle]);
  assert.match(r.stdout, /\nMesh routes to it from other parents:\n {3}HTTPRoute api-to-reviews on ServiceEntry shop\/api: rule 1 \(100%\)\n/);
});
