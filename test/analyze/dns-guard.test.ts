import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { analyzeResources, applyDefaultNamespace } from '../../src/analyze/engine.js';
import { RealLookupInTest } from '../../src/analyze/analyzers/webhooks.js';
import { loadResources } from '../../src/resources/index.js';
import { fixture, runCli, scratchDir } from '../helpers.js';

// externalcontrolplane.ExternalControlPlaneAnalyzer resolves webhook hosts in DNS, as istioctl does.
// No test may ever resolve a real host: tests inject the resolver, or use IP addresses, localhost or
// .invalid names (answered without a lookup). A real lookup under the test runner fails the run.

const tmp = scratchDir('meshctl-dns-guard-');
const ANALYZER = 'externalcontrolplane.ExternalControlPlaneAnalyzer';

function injector(url: string): string {
  return [
    'apiVersion: admissionregistration.k8s.io/v1', 'kind: MutatingWebhookConfiguration',
    'metadata: {name: istio-sidecar-injector-external-istiod}',
    'webhooks:', '- name: rev.namespace.sidecar-injector.istio.io', `  clientConfig: {url: "${url}"}`, '',
  ].join('\n');
}

async function analyze(url: string, lookupHost?: (h: string) => Promise<string[]>) {
  const file = path.join(tmp, `${Buffer.from(url).toString('hex').slice(0, 40)}.yaml`);
  writeFileSync(file, injector(url));
  const { resources } = await loadResources([file]);
  applyDefaultNamespace(resources, 'default');
  return analyzeResources(resources, { analyzers: [ANALYZER], lookupHost });
}

test('the test runner is detected (every test process and the CLI processes tests start)', () => {
  assert.notEqual(process.env.NODE_TEST_CONTEXT, undefined);
});

test('a real host without an injected resolver fails the run loudly, in process', async () => {
  await assert.rejects(analyze('https://istiod.example.com:15017/inject'), (err: unknown) => {
    assert.ok(err instanceof RealLookupInTest);
    assert.match((err as Error).message, /a test attempted a real DNS lookup of "istiod\.example\.com"/);
    return true;
  });
});

test('... and through the CLI, never as a quiet "cannot be resolved" finding', async () => {
  const file = path.join(tmp, 'cli.yaml');
  writeFileSync(file, injector('https://istiod.example.com:15017/inject'));
  const r = await runCli(['analyze', file, '--analyzer', ANALYZER]);
  assert.notEqual(r.code, 0);
  assert.notEqual(r.code, 79);
  assert.match(r.stderr, /real DNS lookup of "istiod\.example\.com"/);
  assert.doesNotMatch(r.stdout, /IST0163/);
});

test('an injected resolver is asked instead; localhost and .invalid need no lookup at all', async () => {
  const asked: string[] = [];
  const ds = await analyze('https://istiod.mesh.example:15017/inject', async (h) => {
    asked.push(h);
    return ['192.0.2.1'];
  });
  assert.deepEqual(asked, ['istiod.mesh.example']);
  assert.deepEqual(ds, []);
  assert.deepEqual(await analyze('https://localhost:15017/inject'), []);
  const gone = await analyze('https://istiod.gone.invalid:15017/inject');
  assert.deepEqual(gone.map((d) => d.type.code), ['IST0163']);
  assert.match(gone[0].message, /cannot be resolved via a DNS lookup/);
});

test('every webhook URL in the fixture corpus names an IP address, localhost or a .invalid host', async () => {
  const { resources } = await loadResources([fixture()], { recursive: true });
  const hooks = resources.filter((r) => /WebhookConfiguration$/.test(r.kind));
  assert.ok(hooks.length >= 5, `${hooks.length} webhook configurations`);
  const hosts: string[] = [];
  for (const r of hooks) {
    for (const w of (r.object.webhooks as { clientConfig?: { url?: string } }[] | undefined) ?? []) {
      const url = w.clientConfig?.url;
      if (typeof url !== 'string' || !url.includes('://')) continue;
      try {
        hosts.push(new URL(url).hostname);
      } catch {
        // malformed on purpose (IST0163): nothing to resolve
      }
    }
  }
  assert.ok(hosts.length >= 3, hosts.join(' '));
  const real = hosts.filter((h) => h !== '' && h !== 'localhost' && !h.endsWith('.invalid') && !/^[\d.]+$|^\[.*\]$/.test(h));
  assert.deepEqual(real, [], 'fixtures would make a real DNS lookup');
});
