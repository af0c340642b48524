import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { loadLive } from '../../src/describe/live.js';
import { loadMeshObjects } from '../../src/describe/load.js';
import { defaultMeshSettings } from '../../src/describe/mesh.js';
import type { Service } from '../../src/describe/objects.js';
import { describeService } from '../../src/describe/report.js';
import type { ApiServerOptions, KubeObject } from '../harness/apiserver.js';
import { GATEWAY_API, GATEWAY_API_V1BETA1, notInstalled } from '../harness/served.js';
import { standIns } from '../harness/stand-ins.js';
import { fixture, runCli, withoutOrigin as strip } from '../helpers.js';

/** Live describe reading Gateway API objects from the API-server stand-in, and clusters without (or forbidding) them. */
const FILES = fixture('describe', 'gateway-api');
const objects = (yaml.loadAll(readFileSync(path.join(FILES, 'objects.yaml'), 'utf8')) as KubeObject[]).filter((o) => o && typeof o === 'object');
const stand = standIns('meshctl-describe-gwapi-');
const cluster = (extra: Partial<ApiServerOptions> = {}) => stand.start(objects, extra);

test('live: Gateways, HTTPRoutes, GRPCRoutes and ReferenceGrants from the API give the offline report', async () => {
  const { api, options } = await cluster();
  const live = await loadLive('service', 'web.shop', options, false);
  assert.deepEqual(live.warnings, []);
  assert.equal(live.objects.apiGateways.length, 2);
  assert.equal(live.objects.httpRoutes.length, 3);
  assert.equal(live.objects.grpcRoutes.length, 1);
  assert.equal(live.objects.referenceGrants.length, 1);
  assert.equal(live.objects.gateways.length, 0, 'Gateway API Gateways are not Istio Gateways');
  assert.ok(api.requests.includes('GET /apis/gateway.networking.k8s.io/v1/httproutes?limit=500'), api.requests.join('\n'));
  const opts = { mesh: defaultMeshSettings(), currentNamespace: 'shop' };
  const fromCluster = describeService(live.objects, live.target as Service, opts);
  const offline = await loadMeshObjects([FILES]);
  const fromFiles = describeService(offline, offline.services.find((s) => s.metadata?.name === 'web')!, opts);
  assert.ok(fromCluster.gatewayApiExposures?.some((e) => e.urls.length === 2));
  assert.deepEqual(strip(fromCluster.gatewayApiExposures!), strip(fromFiles.gatewayApiExposures!));

  const r = await runCli(['describe', 'service', 'web', '-n', 'shop', '--kubeconfig', options.kubeconfig!]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\nExposed on Gateway API gateway istio-ingress\/public http:\/\/203\.0\.113\.7 \(hostname shop\.example\.com\) via HTTPRoute shop\/web\n/);
});

test('live: CRDs not installed (404) is silent, an older API version is used, a forbidden list is a warning', async () => {
  const none = await cluster({ served: notInstalled(GATEWAY_API) });
  const a = await loadLive('service', 'web.shop', none.options, false);
  assert.deepEqual(a.warnings, []);
  assert.equal(a.objects.httpRoutes.length, 0);
  assert.equal(describeService(a.objects, a.target as Service, { mesh: defaultMeshSettings(), currentNamespace: 'shop' }).gatewayApiExposures, undefined);

  const old = await cluster({ served: GATEWAY_API_V1BETA1 });
  const b = await loadLive('service', 'web.shop', old.options, false);
  assert.equal(b.objects.httpRoutes.length, 3);
  assert.ok(old.api.requests.includes('GET /apis/gateway.networking.k8s.io/v1beta1/httproutes?limit=500'), old.api.requests.join('\n'));

  const denied = await cluster({ deny: [{ verb: 'list', resource: 'httproutes' }] });
  const c = await loadLive('service', 'web.shop', denied.options, false);
  assert.ok(c.warnings.some((w) => /^cannot list httproutes\.gateway\.networking\.k8s\.io: forbidden \(403\)/.test(w)), c.warnings.join('\n'));
  assert.equal(c.objects.apiGateways.length, 2, 'the rest is still read');
  const r = await runCli(['describe', 'service', 'web', '-n', 'shop', '--kubeconfig', denied.options.kubeconfig!]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /WARNING: cannot list httproutes\.gateway\.networking\.k8s\.io: forbidden/);
});
