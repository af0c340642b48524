import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { loadLive } from '../../src/describe/live.js';
import { loadMeshObjects } from '../../src/describe/load.js';
import { routeExposures } from '../../src/describe/gateway-api.js';
import type { Service } from '../../src/describe/objects.js';
import type { ApiServerOptions, KubeObject } from '../harness/apiserver.js';
import { GATEWAY_API_V1_5 } from '../harness/served.js';
import { standIns } from '../harness/stand-ins.js';
import { fixture, runCli, withoutOrigin as strip } from '../helpers.js';

/** Live describe (and describe --bundle) reading TCPRoutes and TLSRoutes: the same exposures as from the files. */
const FILES = fixture('describe', 'gateway-api-l4');
const objects = (yaml.loadAll(readFileSync(path.join(FILES, 'objects.yaml'), 'utf8')) as KubeObject[]).filter((o) => o && typeof o === 'object');
const stand = standIns('meshctl-describe-l4-');
const cluster = (extra: Partial<ApiServerOptions> = {}) => stand.start(objects, extra);

test('live: TCPRoutes and TLSRoutes from the API give the offline exposures; TLSRoute at v1 where only v1 is served', async () => {
  const offline = await loadMeshObjects([FILES]);
  const expected = (name: string) => strip(routeExposures(offline, offline.services.filter((s) => s.metadata?.name === name)));

  const { api, options } = await cluster();
  const live = await loadLive('service', 'postgres.db', options, false);
  assert.deepEqual(live.warnings, []);
  assert.equal(live.objects.tcpRoutes.length, 3);
  assert.equal(live.objects.tlsRoutes.length, 2);
  assert.ok(api.requests.includes('GET /apis/gateway.networking.k8s.io/v1alpha2/tcproutes?limit=500'), api.requests.join('\n'));
  assert.deepEqual(strip(routeExposures(live.objects, [live.target as Service])), expected('postgres'));
  assert.equal(expected('postgres').length, 3);

  // Gateway API v1.5 standard: TLSRoute at v1 alone, no TCPRoute CRD (silent)
  const v15 = await cluster({ served: GATEWAY_API_V1_5 });
  const l = await loadLive('service', 'ledger.db', v15.options, false);
  assert.deepEqual(l.warnings, []);
  assert.equal(l.objects.tcpRoutes.length, 0);
  assert.ok(v15.api.requests.includes('GET /apis/gateway.networking.k8s.io/v1/tlsroutes?limit=500'), v15.api.requests.join('\n'));
  assert.deepEqual(strip(routeExposures(l.objects, [l.target as Service])), expected('ledger'));

  const denied = await cluster({ deny: [{ verb: 'list', resource: 'tlsroutes' }] });
  const d = await loadLive('service', 'ledger.db', denied.options, false);
  assert.ok(d.warnings.some((w) => /^cannot list tlsroutes\.gateway\.networking\.k8s\.io: forbidden \(403\)/.test(w)), d.warnings.join('\n'));
});

test('bug-report collects TCPRoutes and TLSRoutes; describe --bundle shows them as the live cluster does', async () => {
  const { options } = await cluster();
  const bundle = path.join(stand.dir(), 'bundle.tar.gz');
  const capture = await runCli(['bug-report', '-A', '-o', bundle, '--kubeconfig', options.kubeconfig!, '--no-include-istiod'], { timeoutMs: 120_000 });
  assert.equal(capture.code, 0, capture.stderr);
  for (const svc of ['postgres', 'ledger']) {
    const live = await runCli(['describe', 'service', svc, '-n', 'db', '--kubeconfig', options.kubeconfig!]);
    const fromBundle = await runCli(['describe', 'service', svc, '-n', 'db', '--bundle', bundle]);
    assert.equal(fromBundle.code, 0, fromBundle.stderr);
    assert.equal(fromBundle.stdout, live.stdout);
  }
  const r = await runCli(['describe', 'service', 'ledger', '-n', 'db', '--bundle', bundle]);
  assert.match(r.stdout, /\nExposed on Gateway API gateway istio-ingress\/edge tls:\/\/203\.0\.113\.9:443 \(SNI ledger\.example\.com\) via TLSRoute db\/ledger\n/);
});
