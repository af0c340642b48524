import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { defaultMeshSettings } from '../../src/describe/mesh.js';
import type { VirtualService } from '../../src/describe/objects.js';
import { duplicateHostWarnings } from '../../src/describe/virtual-services.js';
import { loadMeshObjects } from '../../src/describe/load.js';
import type { Service } from '../../src/describe/objects.js';
import { describeService } from '../../src/describe/report.js';
import { fixture, runCli } from '../helpers.js';

/** Several mesh VirtualServices for one host: which one sidecars use depends on exportTo and their namespace. */

const HOST = 'reviews.shop.svc.cluster.local';
const mesh = defaultMeshSettings();

function vs(ns: string, name: string, created: string | undefined, exportTo?: string[], host = 'reviews'): VirtualService {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace: ns, ...(created ? { creationTimestamp: created } : {}) },
    spec: { hosts: [host], ...(exportTo ? { exportTo } : {}), http: [{ route: [{ destination: { host: HOST } }] }] },
  };
}

// the oldest (shop/reviews-old, public) is the one the old rule named for everyone
const OBJECTS = [
  vs('shop', 'reviews-old', '2026-01-01T00:00:00Z'),
  vs('frontend', 'reviews-pin', '2026-02-01T00:00:00Z', ['frontend'], HOST),
  vs('shop', 'reviews-local', '2026-03-01T00:00:00Z', ['.']),
  vs('shop', 'reviews-qa', '2026-05-01T00:00:00Z', ['qa']),
];

test('describe service: duplicate-host VirtualServices, per client namespace by exportTo before age', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-vsdup-'));
  try {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'shop' }, spec: { ports: [{ name: 'http', port: 9080 }] } };
    writeFileSync(path.join(dir, 'objects.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [service, ...OBJECTS] }));
    const r = await runCli(['describe', 'service', 'reviews', '-n', 'shop', '--files', dir]);
    assert.equal(r.code, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.startsWith('WARNING: VirtualServices '));
    assert.equal(
      line?.replace(/ \(istiod uses one VirtualService per host.*\)$/, ''),
      `WARNING: VirtualServices frontend/reviews-pin, shop/reviews-local, shop/reviews-old, shop/reviews-qa all define host "${HOST}" for the mesh;` +
        ' sidecars in namespace shop use shop/reviews-local over shop/reviews-old' +
        '; in namespace frontend use frontend/reviews-pin over shop/reviews-old' +
        '; in namespace qa use shop/reviews-qa over shop/reviews-old' +
        '; in other namespaces use shop/reviews-old',
      r.stdout,
    );
    assert.ok(!r.stdout.includes('sidecars use only'), 'the old "oldest wins" wording is gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('duplicate hosts no namespace sees twice: no warning; exportTo "~" hides one whatever else it lists', () => {
  const apart = [vs('shop', 'a', '2026-01-01T00:00:00Z', ['.']), vs('frontend', 'b', '2026-01-02T00:00:00Z', ['.'], HOST)];
  assert.deepEqual(duplicateHostWarnings(apart, HOST, 'shop', mesh), []);
  const hidden = [vs('shop', 'a', '2026-01-01T00:00:00Z', ['~', 'qa']), vs('shop', 'b', '2026-01-02T00:00:00Z')];
  assert.deepEqual(duplicateHostWarnings(hidden, HOST, 'shop', mesh), []);
});

test('duplicate hosts: MeshConfig defaultVirtualServiceExportTo "." makes those without exportTo private', () => {
  const local = { ...mesh, defaultVirtualServiceExportTo: ['.'] };
  const list = [vs('shop', 'old', '2026-01-01T00:00:00Z'), vs('shop', 'new', '2026-02-01T00:00:00Z', ['*']), vs('frontend', 'pin', '2026-03-01T00:00:00Z', undefined, HOST)];
  const [w] = duplicateHostWarnings(list, HOST, 'shop', local);
  assert.match(w, /; sidecars in namespace shop use shop\/old over shop\/new; in namespace frontend use frontend\/pin over shop\/new; in other namespaces use shop\/new \(/);
});

test('duplicate hosts: same creation second goes by name, then namespace; a missing creationTimestamp is uncertain', () => {
  const t = '2026-01-01T00:00:00Z';
  const [same] = duplicateHostWarnings([vs('alpha', 'b', t, undefined, HOST), vs('zulu', 'a', t, undefined, HOST)], HOST, 'shop', mesh);
  assert.match(same, /sidecars in namespace shop use zulu\/a over alpha\/b;/);

  const [unknown] = duplicateHostWarnings([vs('shop', 'a', t), vs('shop', 'b', undefined), vs('shop', 'c', undefined, ['.'])], HOST, 'shop', mesh);
  // in shop the private one wins whatever the ages; elsewhere the two public ones tie on an unknown age
  assert.match(unknown, /sidecars in namespace shop use shop\/c over shop\/a, shop\/b; in other namespaces use one of shop\/a, shop\/b: uncertain \(a creationTimestamp is missing on shop\/b, so which is oldest is not known\) \(/);
});

test('the duplicate-host warning and the VirtualService/HTTPRoute one name the same VirtualService per namespace', async () => {
  const objects = await loadMeshObjects([fixture('describe', 'gateway-api-mesh')]);
  // exported to its own namespace by name: private there, before the older public shop/reviews and the routes
  objects.virtualServices.push(vs('shop', 'reviews-mine', '2026-01-05T10:00:00Z', ['shop']));
  // "~" hides it, though frontend is listed too
  objects.virtualServices.push(vs('frontend', 'reviews-hidden', '2026-01-05T10:00:00Z', ['~', 'frontend'], HOST));
  const svc = objects.services.find((x) => x.metadata?.name === 'reviews' && x.metadata?.namespace === 'shop') as Service;
  const warnings = describeService(objects, svc, { mesh, currentNamespace: 'shop' }).warnings;
  const dup = warnings.find((w) => w.startsWith('VirtualServices '));
  assert.equal(
    dup?.replace(/ \(istiod uses one VirtualService per host.*\)$/, ''),
    `VirtualServices frontend/reviews-hidden, shop/reviews, shop/reviews-mine all define host "${HOST}" for the mesh;` +
      ' sidecars in namespace shop use shop/reviews-mine over HTTPRoute shop/reviews-split (port 9080), shop/reviews' +
      '; in namespace frontend use HTTPRoute frontend/reviews-pin over shop/reviews, HTTPRoute shop/reviews-split (port 9080)' +
      '; in other namespaces use shop/reviews over HTTPRoute shop/reviews-split (port 9080)',
  );
  const routes = warnings.filter((w) => w.startsWith('sidecars in ')).map((w) => w.replace(/ alone;.*$/, ''));
  assert.deepEqual(routes, [
    `sidecars in namespace shop route host ${HOST} by VirtualService shop/reviews-mine`,
    `sidecars in namespace frontend route host ${HOST} by HTTPRoute frontend/reviews-pin`,
    `sidecars in other namespaces route host ${HOST} by VirtualService shop/reviews`,
  ]);
});
