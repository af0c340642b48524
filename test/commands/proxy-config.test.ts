import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { proxyConfig, type ProxyConfigKind, type ProxyConfigOptions } from '../../src/commands/proxy-config.js';
import { fileAdminSource } from '../../src/source/envoy-admin.js';
import { fixture, isOneLineError, runCli, scratchDir } from '../helpers.js';

const DUMP = fixture('bookinfo', 'productpage-config_dump.json');
const CLUSTERS = fixture('bookinfo', 'productpage-clusters.json');

/** Rows of a table as arrays of cells (columns are separated by 2+ spaces, or 1 for listeners). */
function rows(out: string, sep = /\s{2,}/): string[][] {
  return out
    .trimEnd()
    .split('\n')
    .map((l) => l.split(sep));
}

/** End to end, as a user runs it: keep these few, each one starts a process. */
async function cli(args: string[], stdin?: string): Promise<string> {
  const r = await runCli(args, { stdin });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout;
}

const ALIASES: Record<string, ProxyConfigKind> = { pc: 'clusters', c: 'clusters', cluster: 'clusters', l: 'listeners', ep: 'endpoints' };

/** The same command in-process: `['pc', kind, '-f', file, ...flags]` mapped onto proxyConfig's options. */
async function ok(args: string[]): Promise<string> {
  const [, k, ...rest] = args;
  const kind = (ALIASES[k] ?? k) as ProxyConfigKind;
  const o: ProxyConfigOptions & { file?: string } = { output: kind === 'bootstrap' ? 'json' : 'short', verbose: true };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const next = () => rest[++i];
    if (a === '-f') o.file = next();
    else if (a === '-o') o.output = next() as ProxyConfigOptions['output'];
    else if (a === '--verbose=false' || a === '--no-verbose') o.verbose = false;
    else if (a === '--with-headers') o.withHeaders = true;
    else if (a === '--port') o.port = Number(next());
    else if (a.startsWith('--')) (o as unknown as Record<string, string>)[a.slice(2)] = next();
    else throw new Error(`test helper does not know ${a}`);
  }
  const r = await proxyConfig(kind, o, fileAdminSource(o.file!));
  assert.deepEqual(r.warnings, []);
  return r.stdout;
}

test('clusters: istioctl columns, Istio names split, DestinationRule from metadata', async () => {
  const out = await cli(['proxy-config', 'clusters', '-f', DUMP]);
  assert.equal(await ok(['pc', 'clusters', '-f', DUMP]), out, 'in-process and CLI agree');
  const t = rows(out);
  assert.deepEqual(t[0], ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE']);
  assert.ok(t.some((r) => r.join('|') === 'reviews.default.svc.cluster.local|9080|v2|outbound|EDS|reviews.default'));
  assert.ok(t.some((r) => r.join('|') === 'details.default.svc.cluster.local|9080|-|outbound|EDS'));
  assert.ok(t.some((r) => r.join('|') === 'PassthroughCluster|-|-|-|ORIGINAL_DST'));
  // sorted by FQDN: every Istio row is in order of its FQDN
  const fqdns = t.slice(1).map((r) => r[0]).filter((f) => f.endsWith('.svc.cluster.local'));
  assert.deepEqual(fqdns, [...fqdns].sort());

  const filtered = rows(await ok(['pc', 'cluster', '-f', DUMP, '--fqdn', 'reviews', '--subset', 'v3']));
  assert.deepEqual(filtered.slice(1), [['reviews.default.svc.cluster.local', '9080', 'v3', 'outbound', 'EDS', 'reviews.default']]);
  const inbound = rows(await ok(['pc', 'c', '-f', DUMP, '--direction', 'inbound']));
  assert.equal(inbound.length, 2);
  assert.equal(inbound[1][1], '9080');
  const port = rows(await ok(['pc', 'clusters', '-f', DUMP, '--port', '15010']));
  assert.deepEqual(port.slice(1).map((r) => r[0]), ['istiod.istio-system.svc.cluster.local']);
});

test('clusters -o json prints the selected Envoy clusters themselves', async () => {
  const list = JSON.parse(await ok(['pc', 'clusters', '-f', DUMP, '--fqdn', 'reviews', '-o', 'json'])) as { name: string; type: string; metadata: unknown }[];
  assert.deepEqual(list.map((c) => c.name), [
    'outbound|9080||reviews.default.svc.cluster.local',
    'outbound|9080|v1|reviews.default.svc.cluster.local',
    'outbound|9080|v2|reviews.default.svc.cluster.local',
    'outbound|9080|v3|reviews.default.svc.cluster.local',
  ]);
  assert.ok(list.every((c) => c.type === 'EDS' && c.metadata));
  const y = yaml.load(await ok(['pc', 'clusters', '-f', DUMP, '--fqdn', 'ratings', '-o', 'yaml'])) as { name: string }[];
  assert.deepEqual(y.map((c) => c.name), ['outbound|9080||ratings.default.svc.cluster.local']);
});

test('listeners: one row per filter chain with istioctl MATCH and DESTINATION wording', async () => {
  const out = await ok(['proxy-config', 'listeners', '-f', DUMP]);
  const lines = out.trimEnd().split('\n');
  assert.match(lines[0], /^ADDRESSES +PORT +MATCH +DESTINATION$/);
  const has = (re: RegExp) => assert.ok(lines.some((l) => re.test(l)), `no line matching ${re}\n${out}`);
  has(/^0\.0\.0\.0 +15001 +ALL +PassthroughCluster$/);
  has(/^0\.0\.0\.0 +15001 +Addr: \*:15001 +Non-HTTP\/Non-TCP$/);
  has(/^0\.0\.0\.0 +9080 +Trans: raw_buffer; App: http\/1\.1,h2c +Route: 9080$/);
  has(/^0\.0\.0\.0 +15006 +Trans: tls; App: TCP TLS; Addr: 0\.0\.0\.0\/0 +InboundPassthroughCluster$/);
  has(/^0\.0\.0\.0 +15006 +Trans: raw_buffer; Addr: \*:9080 +Cluster: inbound\|9080\|\|$/);
  has(/^10\.96\.0\.10 +53 +ALL +Cluster: outbound\|53\|\|kube-dns\.kube-system\.svc\.cluster\.local$/);
  has(/^0\.0\.0\.0 +15021 +ALL +Inline Route: \/healthz\/ready\*$/);
  // sorted by port
  const ports = lines.slice(1).map((l) => Number(l.split(/ +/)[1]));
  assert.deepEqual(ports, [...ports].sort((a, b) => a - b));
  // columns are one space apart, as istioctl's listener table
  assert.match(lines[0], /^ADDRESSES    PORT  MATCH /);
});

test('listeners: filters and --verbose=false', async () => {
  const summary = await ok(['pc', 'listeners', '-f', DUMP, '--verbose=false', '--port', '15006']);
  assert.deepEqual(rows(summary, / +/), [['ADDRESSES', 'PORT', 'TYPE'], ['0.0.0.0', '15006', 'HTTP+TCP']]);
  assert.equal(await cli(['pc', 'l', '-f', DUMP, '--verbose=false', '--port', '15006']), summary);
  const tcp = rows(await ok(['pc', 'listeners', '-f', DUMP, '--type', 'tcp', '--verbose=false']), / +/);
  assert.ok(tcp.length > 1 && tcp.slice(1).every((r) => r[2] === 'TCP'));
  const addr = rows(await ok(['pc', 'listeners', '-f', DUMP, '--address', '10.96.0.1']), / {2,}|(?<=\S) (?=\S)/);
  assert.ok(addr.slice(1).every((r) => r[0] === '10.96.0.1'));
  const json = JSON.parse(await ok(['pc', 'listeners', '-f', DUMP, '--port', '15001', '-o', 'json'])) as { name: string }[];
  assert.deepEqual(json.map((l) => l.name), ['virtualOutbound']);
});

test('routes: NAME, VHOST NAME, DOMAINS, MATCH, VIRTUAL SERVICE; passthrough routes left out', async () => {
  const t = rows(await ok(['proxy-config', 'routes', '-f', DUMP, '--name', '9080']));
  assert.deepEqual(t[0], ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE']);
  assert.deepEqual(t.slice(1).map((r) => r[1]), [
    'details.default.svc.cluster.local:9080',
    'productpage.default.svc.cluster.local:9080',
    'ratings.default.svc.cluster.local:9080',
    'reviews.default.svc.cluster.local:9080',
    'reviews.default.svc.cluster.local:9080',
  ]);
  assert.deepEqual(t[4], ['9080', 'reviews.default.svc.cluster.local:9080', 'reviews, reviews.default + 1 more...', '/*', 'reviews.default']);
  const summary = rows(await ok(['pc', 'routes', '-f', DUMP, '--verbose=false']));
  assert.deepEqual(summary[0], ['NAME', 'VIRTUAL HOSTS']);
  assert.ok(summary.some((r) => r[0] === '9080' && r[1] === '5'));
  const json = JSON.parse(await ok(['pc', 'routes', '-f', DUMP, '--name', '9080', '-o', 'json'])) as { name: string; virtual_hosts: unknown[] }[];
  assert.equal(json.length, 1);
  assert.equal(json[0].virtual_hosts.length, 5);
});

test('endpoints from an include_eds dump: NAME, STATUS, LOCALITY, CLUSTER and filters', async () => {
  const t = rows(await ok(['pc', 'endpoints', '-f', DUMP, '--cluster', 'outbound|9080|v1|reviews.default.svc.cluster.local']));
  assert.deepEqual(t, [
    ['NAME', 'STATUS', 'LOCALITY', 'CLUSTER'],
    ['10.244.0.13:9080', 'HEALTHY', 'us-central1/us-central1-a', 'outbound|9080|v1|reviews.default.svc.cluster.local'],
  ]);
  const byAddr = rows(await ok(['pc', 'ep', '-f', DUMP, '--address', '10.244.0.15']));
  assert.deepEqual(byAddr.slice(1).map((r) => r[3]), ['outbound|9080||reviews.default.svc.cluster.local', 'outbound|9080|v3|reviews.default.svc.cluster.local']);
  assert.equal(await ok(['pc', 'ep', '-f', DUMP, '--status', 'unhealthy']), 'NAME     STATUS     LOCALITY     CLUSTER\n');
  const json = JSON.parse(await ok(['pc', 'ep', '-f', DUMP, '--port', '53', '-o', 'json'])) as { cluster_name: string }[];
  assert.deepEqual(json.map((c) => c.cluster_name), ['outbound|53||kube-dns.kube-system.svc.cluster.local']);
});

test('endpoints from /clusters?format=json: ENDPOINT, STATUS, OUTLIER CHECK, CLUSTER', async () => {
  const t = rows(await ok(['pc', 'endpoints', '-f', CLUSTERS, '--address', '10.244.0.15']));
  assert.deepEqual(t, [
    ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'],
    ['10.244.0.15:9080', 'HEALTHY', 'FAILED', 'outbound|9080|v3|reviews.default.svc.cluster.local'],
    ['10.244.0.15:9080', 'HEALTHY', 'FAILED', 'outbound|9080||reviews.default.svc.cluster.local'],
  ]);
  const all = rows(await ok(['pc', 'endpoints', '-f', CLUSTERS]));
  assert.ok(all.some((r) => r[0] === 'unix://./etc/istio/proxy/XDS'));
  const json = JSON.parse(await ok(['pc', 'endpoints', '-f', CLUSTERS, '--cluster', 'outbound|9080||details.default.svc.cluster.local', '-o', 'json'])) as { name: string; host_statuses: unknown[] }[];
  assert.equal(json.length, 1);
  assert.equal(json[0].host_statuses.length, 1);
});

test('secret: certificates read from the PEM itself, key never printed in any format', async () => {
  const certPem = readFileSync(fixture('bookinfo', 'certs', 'workload-cert.pem'), 'utf8');
  const serial = new X509Certificate(certPem).serialNumber.toLowerCase();
  const t = rows(await ok(['proxy-config', 'secret', '-f', DUMP]));
  assert.deepEqual(t[0], ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE']);
  assert.deepEqual(t[1].slice(0, 5), ['default', 'Cert Chain', 'ACTIVE', 'true', serial]);
  assert.match(t[1][5], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(t[2].slice(0, 4), ['ROOTCA', 'CA', 'ACTIVE', 'true']);

  const key = readFileSync(fixture('bookinfo', 'certs', 'workload-key.pem'), 'utf8');
  const keyBody = key.split('\n')[3];
  const keyB64 = Buffer.from(key).toString('base64').slice(200, 260);
  for (const kind of ['secret', 'all', 'bootstrap']) {
    for (const o of ['json', 'yaml', 'short']) {
      const out = await ok(['pc', kind, '-f', DUMP, '-o', o]);
      assert.equal(out.includes(keyBody), false, `${kind} -o ${o} printed the key`);
      assert.equal(out.includes(keyB64), false, `${kind} -o ${o} printed the key (base64)`);
    }
  }
  assert.match(await ok(['pc', 'secret', '-f', DUMP, '-o', 'json']), /"private_key": \{\s*"inline_bytes": "\[redacted\]"/);
  const e2e = await cli(['pc', 'all', '-f', DUMP, '-o', 'yaml']);
  assert.equal(e2e.includes(keyBody) || e2e.includes(keyB64), false);
  assert.match(e2e, /private_key:\n\s+inline_bytes: '\[redacted\]'/);
});

const SPIFFE = fixture('envoy', 'spiffe', 'spiffe-config_dump.json');

test('secret with SPIFFE trust bundles: one ROOTCA row per CA, a TRUST DOMAIN column, serials as written', async () => {
  const now = new Date('2026-12-01T00:00:00Z');
  const r = await proxyConfig('secret', { output: 'short', verbose: true, now }, fileAdminSource(SPIFFE));
  assert.deepEqual(r.warnings, []);
  assert.equal(
    r.stdout,
    [
      'RESOURCE NAME     TYPE           STATUS     VALID CERT     SERIAL NUMBER                        NOT AFTER                NOT BEFORE               TRUST DOMAIN',
      'default           Cert Chain     ACTIVE     true           f1e2d3c4b5a69788796a5b4c3d2e1f00     2046-01-01T00:00:00Z     2026-01-01T00:00:00Z     east.local',
      'ROOTCA            CA             ACTIVE     true           0a1b2c3d4e5f60708090a0b0c0d0e000     2046-01-01T00:00:00Z     2026-01-01T00:00:00Z     east.local',
      'ROOTCA            CA             ACTIVE     true           c0ffee0000                           2036-01-01T00:00:00Z     2016-01-01T00:00:00Z     east.local',
      'ROOTCA            CA             ACTIVE     false          0100                                 2020-01-01T00:00:00Z     2015-01-01T00:00:00Z     west.local',
      '',
    ].join('\n'),
  );
  // `all` names them with the secret/ prefix, TRUST DOMAIN included
  const all = await proxyConfig('all', { output: 'short', verbose: true, now }, fileAdminSource(SPIFFE));
  assert.match(all.stdout, /\nsecret\/ROOTCA +CA +ACTIVE +false +0100 +2020-01-01T00:00:00Z +2015-01-01T00:00:00Z +west\.local\n/);
  // without trust bundles there is no TRUST DOMAIN column
  assert.doesNotMatch(await ok(['pc', 'secret', '-f', DUMP]), /TRUST DOMAIN/);
});

test('bootstrap: JSON by default, versions with -o short', async () => {
  const b = JSON.parse(await ok(['pc', 'bootstrap', '-f', DUMP])) as { bootstrap: { node: { id: string } } };
  assert.equal(b.bootstrap.node.id, 'sidecar~10.244.0.12~productpage-v1-7d4b8d9b7c-x2x9z.default~default.svc.cluster.local');
  assert.equal(
    await ok(['pc', 'bootstrap', '-f', DUMP, '-o', 'short']),
    'Istio Version:       1.24.2\nIstio Proxy Version: 8b8e3d2f5e6a4c1d9f0b7a3e2c1d4f5a6b7c8d9e\nEnvoy Version:       1.32.3/Clean/RELEASE/BoringSSL\n',
  );
});

test('all: every section with istioctl\'s NAME prefixes; --with-headers adds the banners', async () => {
  const plain = await ok(['proxy-config', 'all', '-f', DUMP]);
  assert.match(plain, /^Istio Version: +1\.24\.2\n/);
  assert.match(plain, /\nNAME +SERVICE FQDN +PORT/);
  assert.match(plain, /\nNAME +ADDRESSES +PORT +MATCH +DESTINATION\n/);
  assert.match(plain, /\nNAME +VHOST NAME +DOMAINS/);
  assert.match(plain, /\nRESOURCE NAME +TYPE/);
  assert.match(plain, /\nNAME +STATUS +LOCALITY +CLUSTER\n/);
  // istioctl prints the type prefixes in both forms; only the banners depend on --with-headers
  for (const prefixed of [/\ncluster\/outbound\|9080\|v1\|reviews/, /\nlistener\/virtualOutbound /, /\nroute\/9080 /, /\nsecret\/ROOTCA /, /\nendpoint\/10\.244\.0\.13:9080 /]) {
    assert.match(plain, prefixed);
  }
  assert.doesNotMatch(plain, /------/);

  const named = await ok(['pc', 'all', '-f', DUMP, '--with-headers']);
  const banners = named.split('\n').filter((l) => l.startsWith('------'));
  assert.deepEqual(banners, ['------ BOOTSTRAP INFO ------', '------ CLUSTER INFO ------', '------ LISTENER INFO ------', '------ ROUTE INFO ------', '------ SECRET INFO ------', '------ ENDPOINTS INFO ------']);
  assert.equal(named.replace(/------ [A-Z]+ INFO ------\n\n/g, ''), plain, 'the same tables, banners aside');
  assert.match(named, /\ncluster\/outbound\|9080\|v1\|reviews\.default\.svc\.cluster\.local +reviews\.default\.svc\.cluster\.local +9080 +v1/);
  assert.match(named, /\nlistener\/virtualOutbound +0\.0\.0\.0 +15001 /);
  assert.match(named, /\nroute\/9080 +details/);
  assert.match(named, /\nsecret\/ROOTCA +CA +ACTIVE/);
  assert.match(named, /\nendpoint\/10\.244\.0\.13:9080 +HEALTHY/);
  // --port reaches the cluster, listener and endpoint tables (routes are filtered by --name only, as in istioctl)
  const filtered = await ok(['pc', 'all', '-f', DUMP, '--port', '15010']);
  assert.doesNotMatch(filtered, /reviews\.default\.svc\.cluster\.local +9080|10\.244\.0\.13|\nlistener\/0\.0\.0\.0_9080 /);
  assert.match(filtered, /\nendpoint\/10\.244\.0\.5:15010 +HEALTHY/);

  const dump = JSON.parse(await ok(['pc', 'all', '-f', DUMP, '-o', 'json'])) as { configs: unknown[] };
  assert.equal(dump.configs.length, 7);
});

test('-f - reads stdin, and YAML dumps work like JSON', async () => {
  const text = readFileSync(DUMP, 'utf8');
  const fromFile = await ok(['pc', 'clusters', '-f', DUMP]);
  assert.equal(await cli(['pc', 'clusters', '-f', '-'], text), fromFile);
  assert.equal(await cli(['pc', 'clusters', '-f', '-'], yaml.dump(JSON.parse(text))), fromFile);
});

test('usage mistakes exit 2 with one line', async () => {
  for (const args of [
    ['pc', 'clusters'],
    ['pc', 'clusters', 'pod.ns', '-f', DUMP],
    ['pc', 'clusters', '-f', DUMP, '-o', 'table'],
    ['pc', 'endpoints', '-f', DUMP, '--status', 'sick', '--port', 'http'],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.trim().length > 0);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('a pod without -f goes to live mode; without a cluster that is one clear line', async () => {
  const r = await runCli(['pc', 'clusters', 'productpage-v1-7d4b8d9b7c-x2x9z.default', '--kubeconfig', fixture('bookinfo', 'no-such-kubeconfig')]);
  assert.equal(r.code, 1);
  assert.ok(isOneLineError(r.stderr), r.stderr);
  assert.match(r.stderr, /kubeconfig|productpage-v1-7d4b8d9b7c-x2x9z/);
});

test('help lists the subcommands and examples', async () => {
  const r = await runCli(['proxy-config', '--help']);
  assert.equal(r.code, 0);
  for (const k of ['clusters', 'listeners', 'routes', 'endpoints', 'secret', 'bootstrap', 'all']) assert.match(r.stdout, new RegExp(`\\b${k}\\b`));
  const sub = await runCli(['proxy-config', 'listeners', '--help']);
  assert.match(sub.stdout, /--verbose/);
  assert.match(sub.stdout, /--proxy-admin-port/);
  assert.match(sub.stdout, /--kubeconfig/);
  assert.match(sub.stdout, /Examples:/);
});

test('ecds: extension configs by type then name', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const path = await import('node:path');
  const d = JSON.parse(readFileSync(DUMP, 'utf8')) as { configs: unknown[] };
  d.configs.push({
    '@type': 'type.googleapis.com/envoy.admin.v3.EcdsConfigDump',
    ecds_filters: [
      { ecds_filter: { '@type': 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig', name: 'default.rate-limit', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm' } } },
      { ecds_filter: { '@type': 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig', name: 'default.add-header', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm' } } },
      { ecds_filter: { name: 'default.authz', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz' } } },
    ],
  });
  const file = path.join(scratchDir('meshctl-ecds-', t), 'ecds.json');
  writeFileSync(file, JSON.stringify(d));
  assert.deepEqual(rows(await ok(['pc', 'ecds', '-f', file])), [
    ['ECDS NAME', 'TYPE'],
    ['default.authz', 'envoy.extensions.filters.http.ext_authz.v3.ExtAuthz'],
    ['default.add-header', 'envoy.extensions.filters.http.wasm.v3.Wasm'],
    ['default.rate-limit', 'envoy.extensions.filters.http.wasm.v3.Wasm'],
  ]);
  await assert.rejects(proxyConfig('ecds', { output: 'short', verbose: true }, fileAdminSource(DUMP)), /no ECDS section/);
});

test('on a terminal, health and certificate problems are coloured without moving the columns', async () => {
  const plain = await ok(['pc', 'endpoints', '-f', CLUSTERS]);
  const tty = process.stdout.isTTY;
  const noColor = process.env.NO_COLOR;
  try {
    (process.stdout as { isTTY?: boolean }).isTTY = true;
    delete process.env.NO_COLOR;
    const coloured = await ok(['pc', 'endpoints', '-f', CLUSTERS]);
    assert.match(coloured, /\u001b\[31mFAILED\u001b\[39m/);
    assert.match(coloured, /\u001b\[32mHEALTHY\u001b\[39m/);
    assert.equal(coloured.replace(/\u001b\[\d+m/g, ''), plain);
  } finally {
    (process.stdout as { isTTY?: boolean }).isTTY = tty;
    if (noColor !== undefined) process.env.NO_COLOR = noColor;
  }
});
