import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import yaml from 'js-yaml';
import { generate, type GenerateSummary } from '../../bench/lib/generate.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'meshctl-gen-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const configOf = (dump: Json, type: string) => dump.configs.find((c: Json) => c['@type'].endsWith(`.${type}`));

/** Every value of `key` anywhere under `node`. */
function collect(node: Json, key: string, out: Json[] = []): Json[] {
  if (Array.isArray(node)) for (const x of node) collect(x, key, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === key) out.push(v);
      collect(v, key, out);
    }
  }
  return out;
}

describe('bench generator (5 services)', () => {
  let meta: GenerateSummary;
  let dump: Json;
  before(() => {
    meta = generate({ services: 5, out: path.join(tmp, 'a'), seed: 3 });
    dump = JSON.parse(readFileSync(meta.files.configDump, 'utf8'));
  });

  it('writes a config dump with the sections Envoy emits, in its order', () => {
    assert.deepEqual(
      dump.configs.map((c: Json) => c['@type'].replace('type.googleapis.com/envoy.admin.v3.', '')),
      ['BootstrapConfigDump', 'ClustersConfigDump', 'EndpointsConfigDump', 'ListenersConfigDump', 'ScopedRoutesConfigDump', 'RoutesConfigDump', 'SecretsConfigDump'],
    );
    assert.match(configOf(dump, 'BootstrapConfigDump').bootstrap.node.id, /^sidecar~10\.\d+\.\d+\.\d+~[a-z0-9-]+\.[a-z0-9-]+~[a-z0-9-]+\.svc\.cluster\.local$/);
  });

  it('cross-references: routes, listeners and endpoints name clusters that exist', () => {
    const clusters = configOf(dump, 'ClustersConfigDump');
    const names = new Set([...clusters.static_clusters, ...clusters.dynamic_active_clusters].map((c: Json) => c.cluster.name));
    assert.equal(clusters.dynamic_active_clusters.length, meta.counts.clusters);
    const routes = configOf(dump, 'RoutesConfigDump');
    const listeners = configOf(dump, 'ListenersConfigDump');
    const referenced = [
      ...collect(routes, 'cluster'),
      ...collect(routes, 'weighted_clusters').flatMap((w: Json) => w.clusters.map((c: Json) => c.name)),
      ...collect(listeners, 'cluster').filter((c: Json) => typeof c === 'string'),
    ];
    assert.ok(referenced.length > 20);
    for (const name of referenced) assert.ok(names.has(name), `unknown cluster ${name}`);

    // every RDS name a listener asks for is served, and every route config is asked for
    const rdsNames = new Set(collect(listeners, 'route_config_name'));
    const routeNames = new Set(routes.dynamic_route_configs.map((r: Json) => r.route_config.name));
    assert.deepEqual([...rdsNames].sort(), [...routeNames].sort());
    assert.equal(routeNames.size, meta.counts.routeConfigs);
    assert.equal(listeners.dynamic_listeners.length, meta.counts.listeners);

    // every EDS cluster has its load assignment, and each endpoint sits in a locality
    const eds = clusters.dynamic_active_clusters.filter((c: Json) => c.cluster.type === 'EDS');
    const cla = new Map(configOf(dump, 'EndpointsConfigDump').dynamic_endpoint_configs.map((e: Json) => [e.endpoint_config.cluster_name, e.endpoint_config]));
    assert.equal(cla.size, eds.length);
    let endpoints = 0;
    for (const c of eds) {
      assert.match(c.cluster.name, /^outbound\|\d+\|(v\d)?\|[a-z0-9-]+\.[a-z0-9-]+\.svc\.cluster\.local$/);
      assert.equal(c.cluster.eds_cluster_config.service_name, c.cluster.name);
      const assignment: Json = cla.get(c.cluster.name);
      assert.ok(assignment, `no endpoints for ${c.cluster.name}`);
      for (const group of assignment.endpoints) {
        assert.ok(group.locality.zone);
        endpoints += group.lb_endpoints.length;
      }
    }
    assert.equal(endpoints, meta.counts.endpoints);
  });

  it('writes DestinationRule metadata on subset clusters and VirtualService metadata on routes', () => {
    const clusters = configOf(dump, 'ClustersConfigDump').dynamic_active_clusters.map((c: Json) => c.cluster);
    const subsets = clusters.filter((c: Json) => /^outbound\|\d+\|v\d\|/.test(c.name));
    assert.ok(subsets.length > 0, 'seed 3 has DestinationRule subsets');
    for (const c of subsets) assert.match(c.metadata.filter_metadata.istio.config, /^\/apis\/networking\.istio\.io\/v1\/namespaces\/[^/]+\/destination-rule\/[^/]+$/);
    const vsRoutes = collect(configOf(dump, 'RoutesConfigDump'), 'routes').flat().filter((r: Json) => r.metadata);
    assert.ok(vsRoutes.length > 0);
    for (const r of vsRoutes) assert.match(r.metadata.filter_metadata.istio.config, /\/virtual-service\//);
  });

  it('carries PEM certificates in the secrets and no private key', () => {
    const secrets = configOf(dump, 'SecretsConfigDump').dynamic_active_secrets;
    assert.deepEqual(secrets.map((s: Json) => s.name), ['default', 'ROOTCA']);
    const chain = Buffer.from(secrets[0].secret.tls_certificate.certificate_chain.inline_bytes, 'base64').toString();
    assert.match(chain, /^-----BEGIN CERTIFICATE-----/);
    assert.ok(new X509Certificate(chain).subjectAltName?.includes('spiffe://cluster.local/'));
    assert.equal(Buffer.from(secrets[0].secret.tls_certificate.private_key.inline_bytes, 'base64').toString(), '[redacted]');
    assert.ok(new X509Certificate(Buffer.from(secrets[1].secret.validation_context.trusted_ca.inline_bytes, 'base64')).ca);
  });

  it('writes /clusters and registryz answers that agree with the dump', () => {
    const names = new Set(configOf(dump, 'ClustersConfigDump').dynamic_active_clusters.map((c: Json) => c.cluster.name));
    const statuses = JSON.parse(readFileSync(meta.files.clusters, 'utf8')).cluster_statuses;
    assert.ok(statuses.length > 0);
    for (const s of statuses) assert.ok(names.has(s.name), s.name);
    const registry = JSON.parse(readFileSync(meta.files.registryz, 'utf8'));
    const hosts = registry.map((s: Json) => s.hostname);
    for (const name of names) {
      const host = String(name).split('|')[3];
      if (host) assert.ok(hosts.includes(host), host);
    }
  });

  it('writes YAML resources that js-yaml loads, ~10 per service, matching the dump', () => {
    const dir = meta.files.resources!;
    const docs: Json[] = [];
    for (const ns of readdirSync(dir)) {
      for (const f of readdirSync(path.join(dir, ns))) docs.push(...yaml.loadAll(readFileSync(path.join(dir, ns, f), 'utf8')));
    }
    assert.equal(docs.length, meta.counts.resources);
    assert.ok(docs.length >= 5 * 8 && docs.length <= 5 * 14, `${docs.length} resources`);
    for (const d of docs) assert.ok(d.apiVersion && d.kind && d.metadata?.name, JSON.stringify(d).slice(0, 80));
    const hosts = new Set(configOf(dump, 'ClustersConfigDump').dynamic_active_clusters.map((c: Json) => String(c.cluster.name).split('|')[3]));
    for (const svc of docs.filter((d) => d.kind === 'Service')) assert.ok(hosts.has(`${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`));
    for (const dr of docs.filter((d) => d.kind === 'DestinationRule')) assert.ok(hosts.has(dr.spec.host));
  });

  it('is deterministic for a seed and varies with it', () => {
    const again = generate({ services: 5, out: path.join(tmp, 'b'), seed: 3, resources: false });
    assert.equal(readFileSync(again.files.configDump, 'utf8'), readFileSync(meta.files.configDump, 'utf8'));
    const other = generate({ services: 5, out: path.join(tmp, 'c'), seed: 4, resources: false });
    assert.notEqual(readFileSync(other.files.configDump, 'utf8'), readFileSync(meta.files.configDump, 'utf8'));
  });
});
