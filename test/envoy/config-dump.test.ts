import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  endpointsOfCluster,
  findCluster,
  findListener,
  findListenersByAddress,
  findRouteConfig,
  findSecret,
  isClustersStatus,
  lbEndpointsOf,
  listClusters,
  listListeners,
  listSecrets,
  parseClustersStatus,
  parseConfigDump,
  sectionKind,
} from '../../src/envoy/index.js';
import { MeshctlError } from '../../src/errors.js';

const T = 'type.googleapis.com/envoy.admin.v3.';

function sampleDump(): { configs: Record<string, unknown>[] } {
  return {
    configs: [
      { '@type': `${T}BootstrapConfigDump`, bootstrap: { node: { id: 'sidecar~10.0.0.1~p.default~default.svc.cluster.local' } } },
      {
        '@type': `${T}ClustersConfigDump`,
        version_info: 'v1',
        static_clusters: [
          {
            cluster: {
              name: 'agent',
              type: 'STATIC',
              load_assignment: {
                cluster_name: 'agent',
                endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 15020 } } } }] }],
              },
            },
          },
        ],
        dynamic_active_clusters: [
          { version_info: 'v2', cluster: { name: 'outbound|9080|v1|reviews.default.svc.cluster.local', type: 'EDS', new_field: 1 } },
        ],
        dynamic_warming_clusters: [{ cluster: { name: 'outbound|9080|v2|reviews.default.svc.cluster.local', type: 'EDS' } }],
      },
      {
        '@type': `${T}ListenersConfigDump`,
        static_listeners: [{ listener: { address: { socket_address: { address: '0.0.0.0', port_value: 15021 } } } }],
        dynamic_listeners: [
          {
            name: '0.0.0.0_9080',
            active_state: { version_info: 'a', listener: { name: '0.0.0.0_9080', address: { socket_address: { address: '0.0.0.0', port_value: 9080 } } } },
            warming_state: { version_info: 'b', listener: { name: '0.0.0.0_9080' } },
          },
          { name: 'bad', error_state: { failed_configuration: { name: 'bad' }, details: 'refused', last_update_attempt: 't' } },
          { name: 'old', draining_state: { listener: { name: 'old' } } },
        ],
      },
      { '@type': `${T}ScopedRoutesConfigDump` },
      {
        '@type': `${T}RoutesConfigDump`,
        static_route_configs: [{ route_config: { name: 'static-route' } }],
        dynamic_route_configs: [{ route_config: { name: '9080', virtual_hosts: [] } }],
      },
      {
        '@type': `${T}SecretsConfigDump`,
        dynamic_active_secrets: [{ name: 'default', secret: { name: 'default' } }],
        dynamic_warming_secrets: [{ name: 'ROOTCA' }],
      },
      {
        '@type': `${T}EndpointsConfigDump`,
        dynamic_endpoint_configs: [
          {
            endpoint_config: {
              cluster_name: 'outbound|9080|v1|reviews.default.svc.cluster.local',
              endpoints: [
                {
                  locality: { region: 'r', zone: 'z' },
                  lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.244.0.20', port_value: 9080 } } }, health_status: 'HEALTHY' }],
                },
              ],
            },
          },
        ],
      },
      { '@type': `${T}EcdsConfigDump`, ecds_filters: [{ ecds_filter: { name: 'wasm-stats', typed_config: {} } }] },
      { '@type': 'type.googleapis.com/some.future.v9.ThingConfigDump', things: [1, 2] },
    ],
  };
}

test('every section is modelled by its @type, entries point into the parsed JSON', () => {
  const raw = sampleDump();
  const dump = parseConfigDump(raw, 'dump.json');
  assert.deepEqual(dump.problems, []);
  assert.equal(dump.sections.length, 9);
  assert.deepEqual([...dump.present].sort(), ['bootstrap', 'clusters', 'ecds', 'endpoints', 'listeners', 'routes', 'scopedRoutes', 'secrets']);
  assert.equal(dump.bootstrap?.bootstrap.node?.id?.startsWith('sidecar~'), true);
  assert.deepEqual(dump.clusters.map((c) => [c.state, c.name]), [
    ['static', 'agent'],
    ['active', 'outbound|9080|v1|reviews.default.svc.cluster.local'],
    ['warming', 'outbound|9080|v2|reviews.default.svc.cluster.local'],
  ]);
  const clusters = raw.configs[1] as { dynamic_active_clusters: { cluster: unknown }[] };
  assert.equal(dump.clusters[1].cluster, clusters.dynamic_active_clusters[0].cluster, 'no copy');
  assert.equal(dump.clusters[1].versionInfo, 'v2');
  assert.equal((dump.clusters[1].cluster as Record<string, unknown>).new_field, 1, 'unknown fields kept');
  assert.deepEqual(dump.listeners.map((l) => [l.state, l.name]), [
    ['static', ''],
    ['active', '0.0.0.0_9080'],
    ['warming', '0.0.0.0_9080'],
    ['error', 'bad'],
    ['draining', 'old'],
  ]);
  assert.equal(dump.listeners[3].errorState?.details, 'refused');
  assert.deepEqual(dump.routes.map((r) => [r.state, r.name]), [['static', 'static-route'], ['dynamic', '9080']]);
  assert.deepEqual(dump.secrets.map((s) => [s.state, s.name, s.secret === undefined]), [['active', 'default', false], ['warming', 'ROOTCA', true]]);
  assert.equal(dump.endpoints[0].clusterName, 'outbound|9080|v1|reviews.default.svc.cluster.local');
  assert.equal(dump.ecds[0].name, 'wasm-stats');
  assert.equal(dump.sections[8].kind, undefined, 'unknown @type kept as a section');
  assert.equal(dump.sections[8].raw, raw.configs[8]);
});

test('queries: lists in istioctl order and O(1) lookups', () => {
  const dump = parseConfigDump(sampleDump(), 'dump.json');
  assert.deepEqual(listClusters(dump).map((c) => c.name), ['outbound|9080|v1|reviews.default.svc.cluster.local', 'agent']);
  assert.equal(listClusters(dump, true).length, 3);
  assert.deepEqual(listListeners(dump).map((l) => [l.state, l.name]), [['active', '0.0.0.0_9080'], ['static', '']]);
  assert.equal(findListener(dump, '0.0.0.0_9080')?.state, 'active');
  assert.equal(findListenersByAddress(dump, '0.0.0.0', 15021)[0]?.state, 'static');
  assert.deepEqual(findListenersByAddress(dump, '0.0.0.0', 1), []);
  assert.equal(findRouteConfig(dump, '9080')?.state, 'dynamic');
  assert.equal(findRouteConfig(dump, 'nope'), undefined);
  assert.equal(findCluster(dump, 'agent')?.state, 'static');
  assert.equal(findSecret(dump, 'ROOTCA')?.state, 'warming');
  assert.deepEqual(listSecrets(dump).map((s) => s.name), ['ROOTCA', 'default']);
  const eds = endpointsOfCluster(dump, 'outbound|9080|v1|reviews.default.svc.cluster.local');
  assert.ok(eds);
  const rows = lbEndpointsOf(eds);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].locality?.zone, 'z');
  // a STATIC cluster's endpoints come from its load_assignment
  const agent = endpointsOfCluster(dump, 'agent');
  assert.equal(lbEndpointsOf(agent!)[0].endpoint.endpoint?.address?.socket_address?.port_value, 15020);
  assert.equal(endpointsOfCluster(dump, 'missing'), undefined);
});

test('a malformed section is skipped with a problem; the rest is still there', () => {
  const raw = sampleDump();
  (raw.configs[1] as Record<string, unknown>).dynamic_active_clusters = 'oops';
  const dump = parseConfigDump(raw, 'dump.json');
  assert.equal(dump.clusters.length, 0);
  assert.equal(dump.listeners.length, 5);
  assert.equal(dump.problems.length, 1);
  assert.equal(dump.problems[0].section, 'clusters');
  assert.match(dump.problems[0].what, /clusters section \(configs\[1\]\)/);
  assert.match(dump.problems[0].reason, /"dynamic_active_clusters" is a string, expected a list/);
  assert.equal(dump.sections[1].ok, false);
});

test('malformed entries are skipped and counted in one problem per section', () => {
  const raw = sampleDump();
  const c = raw.configs[1] as { dynamic_active_clusters: unknown[] };
  c.dynamic_active_clusters.push(42, { no_cluster: true });
  const dump = parseConfigDump(raw, 'dump.json');
  assert.equal(dump.clusters.length, 3);
  assert.equal(dump.problems.length, 1);
  assert.equal(dump.problems[0].what, '2 of 5 entries of the clusters section (configs[1])');
  assert.match(dump.problems[0].reason, /dynamic_active_clusters\[1\] is a number, not an object \(and 1 more\)/);
});

test('an element of configs without @type is a problem, not a crash', () => {
  const dump = parseConfigDump({ configs: [{ x: 1 }, 'str'] }, 'd.json');
  assert.equal(dump.problems.length, 2);
  assert.match(dump.problems[0].reason, /no "@type"/);
  assert.match(dump.problems[1].reason, /a string, not an object/);
});

test('a document that is not a config dump is a clear error', () => {
  assert.throws(() => parseConfigDump({ foo: 1 }, 'x.json'), (e: unknown) => e instanceof MeshctlError && /x\.json: not an Envoy config dump/.test(e.message));
  assert.throws(() => parseConfigDump([1, 2], 'x.json'), /the document is a list/);
  assert.throws(() => parseConfigDump({ configs: {} }, 'x.json'), /"configs" is an object, expected a list/);
  assert.throws(() => parseConfigDump({ cluster_statuses: [] }, 'x.json'), /clusters\?format=json/);
});

test('v2alpha section type URLs are read too', () => {
  assert.equal(sectionKind('type.googleapis.com/envoy.admin.v2alpha.ClustersConfigDump'), 'clusters');
  assert.equal(sectionKind('type.googleapis.com/envoy.admin.v3.EcdsConfigDump'), 'ecds');
  assert.equal(sectionKind('type.googleapis.com/envoy.admin.v3.Nope'), undefined);
});

test('/clusters?format=json: hosts, health and outlier flags', () => {
  const raw = {
    cluster_statuses: [
      {
        name: 'outbound|9080|v1|reviews.default.svc.cluster.local',
        added_via_api: true,
        host_statuses: [
          {
            address: { socket_address: { address: '10.244.0.20', port_value: 9080 } },
            health_status: { eds_health_status: 'HEALTHY', failed_outlier_check: true },
          },
        ],
      },
      'junk',
    ],
  };
  assert.equal(isClustersStatus(raw), true);
  assert.equal(isClustersStatus({ configs: [] }), false);
  const s = parseClustersStatus(raw, 'c.json');
  assert.equal(s.clusters.length, 1);
  assert.equal(s.clusters[0].addedViaApi, true);
  assert.equal(s.clusters[0].hosts[0].health_status?.failed_outlier_check, true);
  assert.equal(s.problems.length, 1);
  assert.throws(() => parseClustersStatus({ configs: [] }, 'c.json'), /not Envoy \/clusters\?format=json output/);
});
