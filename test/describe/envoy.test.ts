import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { envoyViewFromConfigDump, rbacPolicyName } from '../../src/describe/envoy-view.js';
import { parseConfigDump } from '../../src/envoy/config-dump.js';
import { fixture, runCli, scratchDir } from '../helpers.js';

const BOOKINFO = fixture('describe', 'bookinfo');
const DUMP = fixture('describe', 'dumps', 'productpage-config_dump.json');
const PRODUCTPAGE = 'productpage-v1-7d4b8d9b7c-x2x9z';

test('config dump: node, clusters with their DestinationRule, routes with their VirtualService, inbound chains', () => {
  const view = envoyViewFromConfigDump(parseConfigDump(JSON.parse(readFileSync(DUMP, 'utf8')), DUMP));
  assert.equal(view.podName, PRODUCTPAGE);
  assert.equal(view.istioVersion, '1.24.0');
  assert.equal(view.discoveryAddress, 'istiod.istio-system.svc:15012');
  const reviews = view.clusters.find((c) => c.name === 'outbound|9080||reviews.default.svc.cluster.local');
  assert.equal(reviews?.destinationRule, 'reviews.default');
  assert.deepEqual(view.routes[0].virtualHosts.find((v) => v.domains.includes('reviews'))?.virtualServices, ['reviews.default']);
  assert.equal(view.routes[0].name, '9080');
  assert.deepEqual(view.inboundChains.filter((c) => c.port === 9080).map((c) => c.transport), ['tls']);
  assert.equal(rbacPolicyName('ns[default]-policy[deny-delete]-rule[0]'), 'deny-delete.default');
  assert.equal(rbacPolicyName('something-else'), undefined);
});

test('describe pod -f: what Envoy holds confirms the files', async () => {
  const r = await runCli(['describe', 'pod', PRODUCTPAGE, '--files', BOOKINFO, '-f', DUMP]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /\nEnvoy: sidecar~10\.244\.0\.12~productpage-v1-7d4b8d9b7c-x2x9z\.default~default\.svc\.cluster\.local\n   proxy version 1\.24\.0, istiod istiod\.istio-system\.svc:15012\n   productpage:9080: cluster outbound\|9080\|\|productpage\.default\.svc\.cluster\.local, DestinationRule productpage\.default, subsets v1\n   Inbound 9080: mTLS STRICT, RBAC DENY deny-delete\.default; ALLOW productpage-viewer\.default\n$/,
  );
  assert.doesNotMatch(r.stdout, /WARNING/);
  const json = JSON.parse((await runCli(['describe', 'pod', PRODUCTPAGE, '--files', BOOKINFO, '-f', DUMP, '-o', 'json'])).stdout);
  assert.equal(json.envoy.ports[0].destinationRule, 'productpage.default');
  assert.equal(json.envoy.inbound[0].mtls, 'STRICT');
});

test('describe pod -f: a stale proxy (other DestinationRule, missing subset cluster, plaintext accepted, missing RBAC) is warned', async (t) => {
  const dump = JSON.parse(readFileSync(DUMP, 'utf8'));
  for (const cfg of dump.configs) {
    if (cfg['@type'].endsWith('ClustersConfigDump')) {
      cfg.dynamic_active_clusters = cfg.dynamic_active_clusters.filter((c: { cluster: { name: string } }) => !c.cluster.name.startsWith('outbound|9080|v1|productpage'));
      for (const c of cfg.dynamic_active_clusters) {
        const istio = c.cluster.metadata?.filter_metadata?.istio;
        if (istio?.config?.endsWith('/productpage')) istio.config = istio.config.replace(/productpage$/, 'productpage-old');
      }
    }
    if (cfg['@type'].endsWith('ListenersConfigDump')) {
      const l = cfg.dynamic_listeners[0].active_state.listener;
      const chain = l.filter_chains.find((c: { filter_chain_match: { destination_port?: number } }) => c.filter_chain_match.destination_port === 9080);
      chain.filters[0].typed_config.http_filters.splice(1, 1); // drop the ALLOW policy
      l.filter_chains.push({ ...chain, filter_chain_match: { destination_port: 9080, transport_protocol: 'raw_buffer' } });
    }
  }
  const dir = scratchDir('meshctl-describe-', t);
  const stale = path.join(dir, 'stale.json');
  writeFileSync(stale, JSON.stringify(dump));
  const r = await runCli(['describe', 'pod', PRODUCTPAGE, '--files', BOOKINFO, '-f', stale]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /WARNING: for productpage:9080 Envoy applies DestinationRule productpage-old\.default but the configuration gives DestinationRule productpage\.default/);
  assert.match(r.stdout, /WARNING: Envoy has no cluster for subset v1 of productpage:9080/);
  assert.match(r.stdout, /WARNING: inbound port 9080: Envoy accepts mTLS and plaintext \(PERMISSIVE\) but the PeerAuthentications give STRICT/);
  assert.match(r.stdout, /WARNING: inbound port 9080: AuthorizationPolicy productpage-viewer\.default applies to the pod but Envoy's RBAC filters do not contain it/);
});

test('describe pod -f: a dump of another pod is flagged, and a service Envoy lacks is warned', async () => {
  const r = await runCli(['describe', 'pod', 'legacy-0', '--files', fixture('describe', 'no-service'), '-f', DUMP]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /WARNING: the config dump is from pod productpage-v1-7d4b8d9b7c-x2x9z\.default, not legacy-0\.batch/);
  assert.match(r.stdout, /WARNING: Envoy has no cluster outbound\|80\|\|legacy\.batch\.svc\.cluster\.local/);
});

test('describe pod -f with the shared Bookinfo dump: the proxy is read through the Envoy model', async () => {
  const r = await runCli(['describe', 'pod', PRODUCTPAGE, '--files', BOOKINFO, '-f', fixture('bookinfo', 'productpage-config_dump.json'), '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const envoy = JSON.parse(r.stdout).envoy;
  assert.match(envoy.node, /^sidecar~10\.244\.0\.12~productpage-v1-7d4b8d9b7c-x2x9z\.default~/);
  assert.equal(envoy.ports[0].cluster, 'outbound|9080||productpage.default.svc.cluster.local');
  assert.equal(envoy.ports[0].clusterFound, true);
  assert.ok(['STRICT', 'PERMISSIVE', 'DISABLE'].includes(envoy.inbound[0].mtls));
});

test('describe pod -f: a file that is not a config dump is one clear error', async () => {
  const r = await runCli(['describe', 'pod', PRODUCTPAGE, '--files', BOOKINFO, '-f', fixture('describe', 'bookinfo', 'services.yaml')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Error: .*services\.yaml: /);
});
