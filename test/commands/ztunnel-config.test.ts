import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import yaml from 'js-yaml';
import { ztunnelConfig, type ZtunnelConfigKind, type ZtunnelConfigOptions } from '../../src/commands/ztunnel-config.js';
import { MeshctlError } from '../../src/errors.js';
import { fileAdminSource } from '../../src/source/envoy-admin.js';
import { fixture, isOneLineError, runCli } from '../helpers.js';

const WORKER = fixture('ztunnel', 'ztunnel-worker-config_dump.json');
const dir = mkdtempSync(path.join(tmpdir(), 'meshctl-zc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | object): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}
const dump = () => JSON.parse(readFileSync(WORKER, 'utf8')) as Record<string, unknown>;
const run = (kind: ZtunnelConfigKind, o: Partial<ZtunnelConfigOptions> = {}, file = WORKER) => ztunnelConfig(kind, { output: 'short', ...o }, fileAdminSource(file));

async function fails(args: string[], pattern: RegExp, code = 1): Promise<void> {
  const r = await runCli(args);
  assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  assert.ok(isOneLineError(r.stderr), `not one line: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, pattern);
  assert.equal(r.stdout, '');
}

describe('ztunnel-config offline (-f)', () => {
  test('each view by its name and istioctl aliases prints its table (zc, w, svc, s, pol, p, certs, cert, cons)', async () => {
    const heads: [string[], RegExp][] = [
      [['ztunnel-config', 'workloads'], /^NAMESPACE +POD NAME +ADDRESS +NODE +WAYPOINT +PROTOCOL\n/],
      [['zc', 'w'], /^NAMESPACE +POD NAME /],
      [['zc', 'svc'], /^NAMESPACE +SERVICE NAME +SERVICE VIP +WAYPOINT +ENDPOINTS\n/],
      [['zc', 's'], /^NAMESPACE +SERVICE NAME /],
      [['zc', 'pol'], /^NAMESPACE +POLICY NAME +ACTION +SCOPE\n/],
      [['zc', 'p'], /^NAMESPACE +POLICY NAME /],
      [['zc', 'certs'], /^CERTIFICATE NAME +TYPE +STATUS +VALID CERT +SERIAL NUMBER +NOT AFTER +NOT BEFORE\n/],
      [['zc', 'cert'], /^CERTIFICATE NAME /],
      [['zc', 'cons'], /^WORKLOAD +DIRECTION +LOCAL +REMOTE +REMOTE TARGET +PROTOCOL\n/],
    ];
    for (const [args, head] of heads) {
      const r = await runCli([...args, '-f', WORKER]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, head, args.join(' '));
      assert.equal(r.stderr, '');
    }
  });

  test('all: each table after a blank line; --with-headers adds istioctl\'s banners, in its order', async () => {
    const plain = (await run('all')).stdout;
    assert.match(plain, /^\nNAMESPACE +POD NAME/);
    assert.equal(plain.match(/^\n(NAMESPACE|CERTIFICATE NAME|WORKLOAD) /gm)?.length, 5);
    const r = await runCli(['zc', 'all', '-f', WORKER, '--with-headers=true']);
    assert.equal(r.code, 0, r.stderr);
    const banners = [...r.stdout.matchAll(/^------ (.+) ------$/gm)].map((m) => m[1]);
    assert.deepEqual(banners, ['WORKLOAD INFO', 'SERVICE INFO', 'POLICY INFO', 'SECRET INFO', 'CONNECTIONS INFO']);
    assert.match(r.stdout, /^\n------ WORKLOAD INFO ------\n\nNAMESPACE /);
    assert.match(r.stdout, /\n\n------ SERVICE INFO ------\n\nNAMESPACE +SERVICE NAME/);
  });

  test('filters: --workload-namespace, --workload-node, --address, --service-namespace, --policy-namespace, --direction, --raw', async () => {
    const rows = (s: string) => s.trimEnd().split('\n').slice(1);
    const w = rows((await run('workloads', { workloadNamespace: 'payments', workloadNode: 'ambient-worker' })).stdout);
    assert.deepEqual(w.map((l) => l.split(/ +/)[1]), ['ledger-7d6c5b8f9-r2x4k', 'ledger-db-1', 'payments-waypoint-5c7b9d8f6-x3q8w']);
    assert.match(rows((await run('workloads', { address: 'fd00:10:244:2::28' })).stdout).join('\n'), /^shop +catalog-v1-9c8b7d6f5-j6t4s +10\.244\.2\.40,fd00:10:244:2::28 /);
    assert.deepEqual(rows((await run('services', { serviceNamespace: 'payments' })).stdout).map((l) => l.split(/ +/).slice(1).join(' ')), [
      'ledger 10.96.52.20 None 2/2',
      'ledger-db 10.96.52.21 None 1/2',
      'payments-waypoint 10.96.52.10 None 1/1',
    ]);
    assert.equal(rows((await run('policies', { policyNamespace: 'shop' })).stdout).length, 2);
    const out = rows((await run('connections', { direction: 'outbound', raw: true, workloadNamespace: 'shop' })).stdout);
    assert.deepEqual(out.map((l) => l.split(/ +/).slice(1, 5).join(' ')), [
      'Outbound 10.244.1.40:33218 10.244.2.40:15008 10.96.60.12:8080',
      'Outbound 10.244.1.40:33224 10.244.1.21:15008 10.96.52.20:8080',
      'Outbound 10.244.1.40:45110 93.184.215.14:443 93.184.215.14:443',
    ]);
    const r = await runCli(['zc', 'cons', '-f', WORKER, '--direction', 'sideways']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--direction.*sideways.*inbound, outbound/);
  });

  test("the command line: istioctl's singular names and every filter flag reach the view (same output as the function)", async () => {
    const cases: [string[], ZtunnelConfigKind, Partial<ZtunnelConfigOptions>][] = [
      [['zc', 'workload', '--workload-namespace', 'payments', '--workload-node', 'ambient-worker'], 'workloads', { workloadNamespace: 'payments', workloadNode: 'ambient-worker' }],
      [['ztunnel-config', 'workloads', '--address', 'fd00:10:244:2::28', '-o', 'json'], 'workloads', { address: 'fd00:10:244:2::28', output: 'json' }],
      [['zc', 'service', '--service-namespace', 'payments'], 'services', { serviceNamespace: 'payments' }],
      [['zc', 'policy', '--policy-namespace', 'shop', '-o', 'yaml'], 'policies', { policyNamespace: 'shop', output: 'yaml' }],
      [['zc', 'certificate'], 'certificates', {}],
      [['zc', 'connections', '--direction', 'outbound', '--raw', '--workload-namespace', 'shop'], 'connections', { direction: 'outbound', raw: true, workloadNamespace: 'shop' }],
      [['zc', 'cons', '--direction', 'inbound'], 'connections', { direction: 'inbound' }],
      [['zc', 'all', '--with-headers'], 'all', { withHeaders: true }],
    ];
    for (const [args, kind, o] of cases) {
      const r = await runCli([...args, '-f', WORKER]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      const want = (await run(kind, o)).stdout;
      assert.equal(r.stdout, want, args.join(' '));
    }
    // each filter narrows: the filtered table is not the whole one
    for (const [args, kind, o] of cases.filter(([, , x]) => Object.keys(x).some((k) => k !== 'output'))) {
      assert.notEqual((await run(kind, o)).stdout, (await run(kind, { output: o.output })).stdout, `${args.join(' ')} changes nothing`);
    }
  });

  test('-o json and yaml: the entries of the table as ztunnel wrote them; all: the whole dump', async () => {
    const w = JSON.parse((await run('workloads', { output: 'json', workloadNamespace: 'bookinfo' })).stdout) as { namespace: string; uid: string }[];
    assert.equal(w.length, 8);
    assert.ok(w.every((x) => x.namespace === 'bookinfo' && x.uid.startsWith('Kubernetes//Pod/bookinfo/')));
    const s = yaml.load((await run('services', { output: 'yaml', serviceNamespace: 'bookinfo' })).stdout) as { name: string; waypoint?: { destination: string } }[];
    assert.deepEqual(s.map((x) => x.name), ['details', 'productpage', 'ratings', 'reviews', 'reviews-waypoint', 'waypoint']);
    assert.equal(s[3].waypoint!.destination, 'bookinfo/reviews-waypoint.bookinfo.svc.cluster.local');
    const c = JSON.parse((await run('connections', { output: 'json' })).stdout) as { info: { name: string }; uid?: string }[];
    assert.equal(c[0].info.name, 'productpage-v1-5b8d7f9c6d-k2lxp');
    assert.equal(c[0].uid, undefined);
    const all = JSON.parse((await run('all', { output: 'json' })).stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(all).sort(), Object.keys(dump()).sort());
  });

  test('stdin (-f -), YAML input, and the older map form', async () => {
    const r = await runCli(['zc', 'pol', '-f', '-'], { stdin: readFileSync(WORKER, 'utf8') });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^istio-system +deny-blocked-namespace +Deny +Global$/m);
    const y = write('dump.yaml', yaml.dump(dump()));
    assert.equal((await run('services', {}, y)).stdout, (await run('services')).stdout);
    const legacy = fixture('ztunnel', 'legacy-map-config_dump.json');
    assert.equal((await run('workloads', {}, legacy)).stdout, (await run('workloads')).stdout);
  });

  test('certificates never show key material, even from a doctored dump', async () => {
    const d = dump();
    const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----\n';
    const certs = d.certificates as { certChain: { pem: string }[] }[];
    certs[0].certChain[0].pem = Buffer.from(Buffer.from(certs[0].certChain[0].pem, 'base64').toString() + key).toString('base64');
    (d.config as Record<string, unknown>).leaked = key;
    const f = write('doctored-key.json', d);
    for (const kind of ['certificates', 'all'] as const) {
      for (const output of ['short', 'json', 'yaml'] as const) {
        const out = (await run(kind, { output }, f)).stdout;
        assert.doesNotMatch(out, /PRIVATE KEY|MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj/, `${kind} -o ${output}`);
        const b64 = Buffer.from(key).toString('base64').slice(8, 40);
        assert.ok(!out.includes(b64), `${kind} -o ${output} holds the key in base64`);
      }
    }
  });

  test('on a terminal, unusable certificates and unready endpoints are coloured without moving the columns', async () => {
    const plainCerts = (await run('certificates')).stdout;
    const plainSvc = (await run('services')).stdout;
    const tty = process.stdout.isTTY;
    const noColor = process.env.NO_COLOR;
    try {
      (process.stdout as { isTTY?: boolean }).isTTY = true;
      delete process.env.NO_COLOR;
      const certs = (await run('certificates')).stdout;
      assert.match(certs, /\u001b\[31mUnavailable\u001b\[39m/);
      assert.match(certs, /\u001b\[33mInitializing\u001b\[39m/);
      assert.match(certs, /\u001b\[31mfalse\u001b\[39m/);
      assert.equal(certs.replace(/\u001b\[\d+m/g, ''), plainCerts);
      const svc = (await run('services')).stdout;
      assert.match(svc, /ledger-db +10\.96\.52\.21 +None +\u001b\[33m1\/2\u001b\[39m/);
      assert.equal(svc.replace(/\u001b\[\d+m/g, ''), plainSvc);
    } finally {
      (process.stdout as { isTTY?: boolean }).isTTY = tty;
      if (noColor !== undefined) process.env.NO_COLOR = noColor;
    }
  });

  test('broken entries: the table of the rest, one warning each naming the entry', async () => {
    const d = dump();
    (d.workloads as Record<string, unknown>[]).find((w) => w.name === 'ztunnel-7kq2p')!.workloadIps = 42;
    const f = write('one-broken.json', d);
    const r = await runCli(['zc', 'w', '-f', f]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^warning: skipped workload "istio-system\/ztunnel-7kq2p" because workloadIps is a number, expected a list of addresses\n$/);
    assert.doesNotMatch(r.stdout, /ztunnel-7kq2p/);
    assert.match(r.stdout, /ztunnel-n4xw8/);
  });
});

describe('ztunnel-config bad input: one line naming the file, exit 1', () => {
  test('malformed, truncated, empty', async () => {
    await fails(['zc', 'all', '-f', write('bad.json', '{"workloads": [}')], /bad\.json: invalid JSON at line 1 column 16: expected a value/);
    const text = readFileSync(WORKER, 'utf8');
    await fails(['zc', 'w', '-f', write('cut.json', text.slice(0, text.length / 2))], /cut\.json: truncated JSON/);
    await fails(['zc', 'w', '-f', write('empty.json', '')], /empty\.json: file is empty/);
  });

  test('a dump of the wrong kind, both ways', async () => {
    await fails(['zc', 'all', '-f', fixture('bookinfo', 'productpage-config_dump.json')], /productpage-config_dump\.json: this is an Envoy config dump .*meshctl proxy-config/);
    await fails(['zc', 'w', '-f', fixture('bookinfo', 'productpage-clusters.json')], /Envoy's \/clusters\?format=json answer/);
    await fails(['pc', 'clusters', '-f', WORKER], /ztunnel-worker-config_dump\.json: .*a ztunnel's config dump, not an Envoy's; read it with meshctl ztunnel-config/);
  });

  test('the section a view needs: missing or unusable', async () => {
    const noState = dump();
    delete noState.workloadState;
    await failsInProcess('connections', write('no-state.json', noState), /no-state\.json: this ztunnel dump has no workloadState section/);
    const badPolicies = dump();
    badPolicies.policies = 7;
    const f = write('bad-policies.json', badPolicies);
    await failsInProcess('policies', f, /bad-policies\.json: the policies section is unusable: it is a number, expected a list or a map/);
    // all shows the rest and says what it left out
    const r = await run('all', {}, f);
    assert.match(r.stdout, /POLICY|SERVICE NAME/);
    assert.doesNotMatch(r.stdout, /POLICY NAME/);
    assert.deepEqual(r.warnings, ['skipped the policies section because it is a number, expected a list or a map']);
    await failsInProcess('all', write('nothing.json', { workloads: 'x', services: null }), /nothing\.json: nothing usable in this ztunnel dump \(the workloads section: it is a string/);
  });

  test('usage mistakes: exit 2', async () => {
    await fails(['zc', 'w', 'ztunnel-abc', '-f', WORKER], /at most one of --file, --node, or pod name/, 2);
    await fails(['zc', 'w', '--node', 'n1', '-f', WORKER], /at most one of --file, --node, or pod name/, 2);
    await fails(['zc', 'log', '--level', 'debug', '--reset', '-f', WORKER], /--level cannot be combined with --reset/, 2);
  });
});

async function failsInProcess(kind: ZtunnelConfigKind, file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(run(kind, {}, file), (e: unknown) => {
    assert.ok(e instanceof MeshctlError, String(e));
    assert.equal(e.exitCode, 1);
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, pattern);
    return true;
  });
}
