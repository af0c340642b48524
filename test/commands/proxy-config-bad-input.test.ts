import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { proxyConfig, type ProxyConfigKind } from '../../src/commands/proxy-config.js';
import { MeshctlError } from '../../src/errors.js';
import { fileAdminSource } from '../../src/source/envoy-admin.js';
import { fixture, isOneLineError, runCli } from '../helpers.js';

const DUMP = fixture('bookinfo', 'productpage-config_dump.json');
const dir = mkdtempSync(path.join(tmpdir(), 'meshctl-pc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

type Dump = { configs: Record<string, unknown>[] };
const dumpJson = (): Dump => JSON.parse(readFileSync(DUMP, 'utf8')) as Dump;
const section = (d: Dump, type: string) => d.configs.find((c) => String(c['@type']).endsWith(type))!;

/** Runs the CLI and checks the shape every failure must have. */
async function fails(args: string[], pattern: RegExp, code = 1): Promise<void> {
  const r = await runCli(args);
  assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  assert.ok(isOneLineError(r.stderr), `not one line: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, /^Error: /);
  assert.match(r.stderr, pattern);
  assert.equal(r.stdout, '');
}

/** In-process, for the many cases whose CLI plumbing is already covered above. */
async function failsInProcess(kind: ProxyConfigKind, file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(proxyConfig(kind, { output: 'short', verbose: true }, fileAdminSource(file)), (e: unknown) => {
    assert.ok(e instanceof MeshctlError, String(e));
    assert.equal(e.exitCode, 1);
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, pattern);
    return true;
  });
}

test('not JSON or YAML: one line naming the file', async () => {
  const f = write('garbage.txt', 'this: is: not [valid\n  - at all');
  await fails(['pc', 'all', '-f', f], new RegExp(`${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid JSON or YAML`));
});

test('a truncated dump is named as truncated', async () => {
  const text = readFileSync(DUMP, 'utf8');
  const f = write('truncated.json', text.slice(0, Math.floor(text.length / 2)));
  await fails(['pc', 'clusters', '-f', f], /truncated\.json: truncated JSON/);
});

test('JSON that is not a config dump', async () => {
  await fails(['pc', 'listeners', '-f', write('other.json', '{"apiVersion": "v1", "kind": "Pod"}')], /other\.json: not an Envoy config dump/);
  await failsInProcess('clusters', write('list.json', '[1, 2, 3]'), /not an Envoy config dump \(the document is a list/);
  await failsInProcess('clusters', fixture('bookinfo', 'productpage-clusters.json'), /clusters\?format=json output; use it with "proxy-config endpoints"/);
  await failsInProcess('endpoints', write('scalar.json', '"just a string"'), /not an Envoy config dump/);
});

test('a dump with a section missing: that view fails in one line, `all` shows the rest with a warning', async () => {
  const d = dumpJson();
  d.configs = d.configs.filter((c) => !String(c['@type']).endsWith('SecretsConfigDump'));
  const f = write('no-secrets.json', JSON.stringify(d));
  await fails(['pc', 'secret', '-f', f], /no-secrets\.json: this config dump has no secrets section \(SecretsConfigDump\)/);
  const r = await runCli(['pc', 'all', '-f', f]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, `warning: ${f} has no secrets section; not shown\n`);
  assert.match(r.stdout, /SERVICE FQDN/);
  assert.match(r.stdout, /ADDRESSES +PORT/);
  assert.doesNotMatch(r.stdout, /RESOURCE NAME/);

  const noEds = dumpJson();
  noEds.configs = noEds.configs.filter((c) => !String(c['@type']).endsWith('EndpointsConfigDump'));
  await failsInProcess('endpoints', write('no-eds.json', JSON.stringify(noEds)), /no endpoints in this config dump .*\?include_eds/);
});

test('a malformed section is skipped with a warning naming it; the rest still renders', async () => {
  const d = dumpJson();
  section(d, 'ClustersConfigDump').dynamic_active_clusters = 'corrupted';
  const f = write('bad-clusters.json', JSON.stringify(d));
  const r = await runCli(['pc', 'all', '-f', f]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stderr,
    'warning: skipped the clusters section (configs[1]) because "dynamic_active_clusters" is a string, expected a list\n',
  );
  assert.doesNotMatch(r.stdout, /SERVICE FQDN/);
  assert.match(r.stdout, /ADDRESSES +PORT/);
  // the one view that needs it has nothing to show: an error, in one line
  await fails(['pc', 'clusters', '-f', f], /the clusters section \(ClustersConfigDump\) is unusable: "dynamic_active_clusters" is a string/);
  // other views are unaffected (and still warn)
  const l = await proxyConfig('listeners', { output: 'short', verbose: true }, fileAdminSource(f));
  assert.match(l.stdout, /virtualOutbound|15001/);
  assert.equal(l.warnings.length, 1);
});

test('bad entries inside a section are skipped and counted; unknown @types are kept', async () => {
  const d = dumpJson();
  const listeners = section(d, 'ListenersConfigDump').dynamic_listeners as unknown[];
  listeners.push(7, { name: 'half', active_state: { version_info: 'x' } });
  d.configs.push({ '@type': 'type.googleapis.com/envoy.admin.v9.FutureConfigDump', whatever: [1] });
  const f = write('bad-entries.json', JSON.stringify(d));
  const r = await proxyConfig('listeners', { output: 'short', verbose: true }, fileAdminSource(f));
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /^skipped 2 of \d+ entries of the listeners section \(configs\[3\]\) because dynamic_listeners\[\d+\] is a number, not an object \(and 1 more\)$/);
  assert.match(r.stdout, /15001/);
  const all = JSON.parse((await proxyConfig('all', { output: 'json', verbose: true }, fileAdminSource(f))).stdout) as Dump;
  assert.equal(all.configs.at(-1)!['@type'], 'type.googleapis.com/envoy.admin.v9.FutureConfigDump', 'unknown section passed through');
});

test('a secret with a broken PEM: a warning naming the secret, the other secrets still shown', async () => {
  const d = dumpJson();
  const secrets = section(d, 'SecretsConfigDump').dynamic_active_secrets as { secret: { tls_certificate: { certificate_chain: { inline_bytes: string } } } }[];
  secrets[0].secret.tls_certificate.certificate_chain.inline_bytes = Buffer.from('-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n').toString('base64');
  const f = write('broken-pem.json', JSON.stringify(d));
  const r = await runCli(['pc', 'secret', '-f', f]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(isOneLineError(r.stderr));
  assert.match(r.stderr, /^warning: secret "default": cannot read its certificate: the certificate does not parse/);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[1], /^default +ACTIVE +false$/);
  assert.match(lines[2], /^ROOTCA +CA +ACTIVE +true +[0-9a-f]+ /);
});

test('warming secrets are listed first, and VALID CERT follows the clock', async () => {
  const d = dumpJson();
  const s = section(d, 'SecretsConfigDump');
  s.dynamic_warming_secrets = [{ name: 'file-root:/etc/certs/extra-ca.pem', version_info: 'uninitialized', last_updated: '2026-11-20T09:14:02Z', secret: { name: 'file-root:/etc/certs/extra-ca.pem' } }];
  (s.dynamic_active_secrets as unknown[]).push({
    name: 'old',
    secret: { name: 'old', tls_certificate: { certificate_chain: { inline_bytes: Buffer.from(readFileSync(fixture('bookinfo', 'certs', 'expired-cert.pem'))).toString('base64') } } },
  });
  const f = write('warming.json', JSON.stringify(d));
  const now = new Date('2030-01-01T00:00:00Z');
  const r = await proxyConfig('secret', { output: 'short', verbose: true, now }, fileAdminSource(f));
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[1], /^file-root:\/etc\/certs\/extra-ca\.pem +WARMING +false$/);
  assert.match(lines[2], /^default +Cert Chain +ACTIVE +true /);
  assert.match(lines[4], /^old +Cert Chain +ACTIVE +false +01 +2021-01-01T00:00:00Z +2020-01-01T00:00:00Z$/);
  const later = await proxyConfig('secret', { output: 'short', verbose: true, now: new Date('2040-01-01T00:00:00Z') }, fileAdminSource(f));
  assert.match(later.stdout.split('\n')[2], /^default +Cert Chain +ACTIVE +false /, 'expired by 2040');
});

test('empty file, directory, missing file: one line each', async () => {
  await fails(['pc', 'all', '-f', write('empty.json', '')], /empty\.json: file is empty/);
  await fails(['pc', 'all', '-f', dir], /is a directory, expected a file/);
  await fails(['pc', 'all', '-f', path.join(dir, 'nope.json')], /nope\.json: no such file/);
});

test('a file too large to read is refused before reading it (sparse file, nothing written)', async () => {
  const f = path.join(dir, 'huge.json');
  writeFileSync(f, '');
  truncateSync(f, 1024 * 1024 * 1024);
  await fails(['pc', 'all', '-f', f], /huge\.json: too large to read \(1024 MiB; the limit is 512 MiB\)/);
});

test('a dump with no usable section at all is an error, not an empty success', async () => {
  const f = write('hollow.json', JSON.stringify({ configs: [{ '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', static_clusters: 5 }] }));
  await failsInProcess('all', f, /nothing usable in this config dump/);
});

test('updates Envoy rejected (error_state) are reported; the configuration in force is still shown', async () => {
  const d = dumpJson();
  const listeners = section(d, 'ListenersConfigDump').dynamic_listeners as Record<string, unknown>[];
  const vo = listeners.find((l) => l.name === 'virtualOutbound')!;
  vo.error_state = { failed_configuration: { name: 'virtualOutbound' }, last_update_attempt: '2026-11-20T10:00:00Z', details: 'error adding listener: duplicate filter chain match\nmore' };
  const clusters = section(d, 'ClustersConfigDump').dynamic_active_clusters as Record<string, unknown>[];
  clusters[5].error_state = { details: 'cluster refused', last_update_attempt: '2026-11-20T10:01:00Z' };
  const f = write('nacked.json', JSON.stringify(d));
  const l = await proxyConfig('listeners', { output: 'short', verbose: true }, fileAdminSource(f));
  assert.deepEqual(l.warnings, ['Envoy rejected an update of listener "virtualOutbound" at 2026-11-20T10:00:00Z: error adding listener: duplicate filter chain match']);
  assert.match(l.stdout, /\n0\.0\.0\.0 +15001 +ALL +PassthroughCluster\n/);
  const all = await proxyConfig('all', { output: 'short', verbose: true }, fileAdminSource(f));
  assert.equal(all.warnings.length, 2);
  assert.match(all.warnings[0], /^Envoy rejected an update of cluster ".+" at 2026-11-20T10:01:00Z: cluster refused$/);
});
