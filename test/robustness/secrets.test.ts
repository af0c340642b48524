/**
 * Secrets never leave meshctl: marker values are planted in every place an Envoy dump or a kubeconfig
 * carries secret material, every output format of every command that reads them is produced, and
 * the markers (in plain and base64 form) must appear in none of it — stdout or stderr, with --verbose.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type FakeCluster, PRODUCTPAGE, startCluster } from '../harness/cluster.js';
import { fixture, runCli, scratchDir } from '../helpers.js';

const dir = scratchDir('meshctl-secrets-');
const MARK = {
  secretKey: 'MARKERsecretKEY0001',
  generic: 'MARKERgenericSECRET0002',
  ticket: 'MARKERticketKEY0003',
  clusterKey: 'MARKERclusterKEY0004',
  listenerKey: 'MARKERlistenerKEY0005',
  bootstrapKey: 'MARKERbootstrapKEY0006',
  password: 'MARKERpkcs12PASSWORD0007',
  kubeToken: 'MARKERkubeTOKEN0008',
  kubeKey: 'MARKERkubeCLIENTkey0009',
};
const b64 = (s: string) => Buffer.from(s).toString('base64');
const pemKey = (marker: string) => `-----BEGIN PRIVATE KEY-----\n${marker}${'A'.repeat(40)}\n-----END PRIVATE KEY-----\n`;

/** Every form in which a planted value could leak. */
function leaks(out: string): string[] {
  const found: string[] = [];
  for (const [what, m] of Object.entries(MARK)) {
    if (out.includes(m)) found.push(what);
    else if (out.includes(b64(pemKey(m)).slice(0, 24)) || out.includes(b64(m).slice(0, 16))) found.push(`${what} (base64)`);
  }
  return found;
}

function tlsContext(marker: string) {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      common_tls_context: {
        tls_certificates: [{ certificate_chain: { inline_string: 'cert' }, private_key: { inline_bytes: b64(pemKey(marker)) } }],
      },
    },
  };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function plantedDump(): string {
  const dump = JSON.parse(readFileSync(fixture('bookinfo', 'productpage-config_dump.json'), 'utf8')) as { configs: Json[] };
  const section = (t: string) => dump.configs.find((c) => String(c['@type']).endsWith(t))!;
  const secrets = section('SecretsConfigDump');
  const cert = secrets.dynamic_active_secrets[0].secret.tls_certificate.certificate_chain;
  secrets.dynamic_active_secrets.push(
    {
      name: 'planted-cert',
      secret: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
        name: 'planted-cert',
        tls_certificate: { certificate_chain: cert, private_key: { inline_string: pemKey(MARK.secretKey) }, password: { inline_string: MARK.password } },
      },
    },
    { name: 'planted-generic', secret: { name: 'planted-generic', generic_secret: { secret: { inline_bytes: b64(MARK.generic) } } } },
    { name: 'planted-ticket', secret: { name: 'planted-ticket', session_ticket_keys: { keys: [{ inline_bytes: b64(MARK.ticket) }] } } },
  );
  const clusters = section('ClustersConfigDump');
  const reviews = clusters.dynamic_active_clusters.find((c: Json) => String(c.cluster?.name).startsWith('outbound|9080|v1|reviews'));
  reviews.cluster.transport_socket = tlsContext(MARK.clusterKey);
  const listeners = section('ListenersConfigDump');
  const inbound = listeners.dynamic_listeners.find((l: Json) => l.name === 'virtualInbound') ?? listeners.dynamic_listeners[0];
  const chain = inbound.active_state.listener.filter_chains[0];
  chain.transport_socket = {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      common_tls_context: { tls_certificates: [{ private_key: { inline_string: pemKey(MARK.listenerKey) } }] },
    },
  };
  const boot = section('BootstrapConfigDump');
  const staticClusters = (boot.bootstrap.static_resources.clusters ??= []);
  staticClusters.push({ name: 'planted-static', type: 'STATIC', transport_socket: tlsContext(MARK.bootstrapKey) });
  const file = path.join(dir, 'planted-config_dump.json');
  writeFileSync(file, JSON.stringify(dump, null, 2));
  return file;
}

let dumpFile = '';
let cluster: FakeCluster;
before(async () => {
  dumpFile = plantedDump();
  cluster = await startCluster();
});
after(async () => cluster.close());

test('planted Envoy secrets appear in no output format of proxy-config, trace or describe', async (t) => {
  const runs: string[][] = [];
  for (const kind of ['all', 'secret', 'bootstrap', 'clusters', 'listeners', 'routes', 'endpoints']) {
    for (const o of ['short', 'json', 'yaml']) runs.push(['proxy-config', kind, '-f', dumpFile, '-o', o, '--verbose']);
  }
  runs.push(['proxy-config', 'all', '-f', dumpFile, '--with-headers']);
  for (const o of ['short', 'json', 'yaml']) {
    runs.push(['trace', '-f', dumpFile, 'http://reviews.default.svc.cluster.local:9080/reviews/0', '-H', 'end-user: jason', '-o', o, '--all-candidates']);
    runs.push(['trace', '-f', dumpFile, '--direction', 'inbound', 'http://productpage:9080/productpage', '-o', o]);
  }
  for (const o of ['text', 'json', 'yaml']) {
    runs.push(['describe', 'pod', 'productpage-v1-6f9f5b7c8d-x2x9z.default', '--files', fixture('describe', 'bookinfo'), '-f', dumpFile, '-o', o]);
  }
  let produced = 0;
  for (const args of runs) {
    const r = await runCli(args);
    assert.ok(r.code === 0 || r.code === 1, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    if (r.code === 0) produced++;
    assert.deepEqual(leaks(r.stdout + r.stderr), [], `${args.join(' ')} printed secret material`);
  }
  // the redaction is visible, not a silent omission of the secrets themselves
  const secrets = await runCli(['proxy-config', 'secret', '-f', dumpFile, '-o', 'json']);
  assert.match(secrets.stdout, /planted-cert/);
  assert.match(secrets.stdout, /\[redacted\]/);
  assert.ok(produced >= runs.length - 3, `most runs produce output (${produced} of ${runs.length})`);
  t.diagnostic(`outputs checked for planted secrets: ${runs.length}`);
});

test('kubeconfig credentials are never printed, even with --verbose and on errors', async () => {
  const kubeconfig = (server: string) => {
    const file = path.join(dir, `kubeconfig-${server.replace(/\W/g, '')}`);
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: c',
        '  cluster:',
        `    server: ${server}`,
        '    insecure-skip-tls-verify: true',
        'users:',
        '- name: u',
        '  user:',
        `    token: ${MARK.kubeToken}`,
        'contexts:',
        '- name: x',
        '  context: {cluster: c, user: u, namespace: default}',
        'current-context: x',
        '',
      ].join('\n'),
    );
    return file;
  };
  // wrong token against the stand-in (401), and a server that refuses connections
  const cases = [kubeconfig(cluster.api.url), kubeconfig('http://127.0.0.1:1')];
  for (const kc of cases) {
    for (const args of [
      ['proxy-config', 'clusters', `${PRODUCTPAGE}.default`, '--kubeconfig', kc, '--verbose', '--timeout', '5s'],
      ['proxy-status', '--kubeconfig', kc, '--verbose', '--timeout', '5s'],
      ['istiod', 'registry', '--kubeconfig', kc, '--verbose', '--timeout', '5s'],
    ]) {
      const r = await runCli(args, { env: { MESHCTL_DEBUG: '1' } });
      assert.equal(r.code, 1, `${args.join(' ')} should fail: ${r.stdout}${r.stderr}`);
      assert.deepEqual(leaks(r.stdout + r.stderr), [], `${args.join(' ')} printed a credential:\n${r.stderr}`);
    }
  }
});
