import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Snapshot } from '../../src/analyze/snapshot.js';
import { toResource, type Resource } from '../../src/resources/index.js';
import { runAnalyze } from './run.js';

// One rule for every "nothing matches" check: istioctl's verdict by default; with --partial (or a
// cluster that would not show some kinds) only where the input shows that part of the mesh.

const C = 'fixtures/analyze/cases';

function res(o: Record<string, unknown>): Resource {
  const r = toResource(o);
  assert.ok(typeof r !== 'string', String(r));
  return r;
}

const pod = res({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } }, spec: {} });
const secret = res({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cert', namespace: 'edge' } });

test('knows: files alone follow --partial; a part the input shows is known either way', () => {
  const whole = new Snapshot([pod]);
  assert.ok(whole.knows('workloads', 'other') && whole.knows('secrets', 'shop') && whole.knows('namespaces') && whole.knows('webhooks'));
  const part = new Snapshot([pod, secret], { partial: true });
  assert.equal(part.knows('workloads', 'shop'), true);
  assert.equal(part.knows('workloads', 'other'), false);
  assert.equal(part.knows('workloads'), true, 'some workload anywhere');
  assert.equal(part.knows('secrets', 'edge'), true);
  assert.equal(part.knows('secrets', 'shop'), false);
  assert.equal(part.knows('namespaces'), false);
  assert.equal(part.knows('webhooks'), false);
  assert.equal(part.knows('services', 'shop'), false);
  // an analyzer's own evidence decides where the input is partial, and only there
  assert.equal(part.knows('workloads', 'other', true), true);
  assert.equal(whole.knows('workloads', 'other', false), true);
});

test('knows: what a cluster read decides whatever --partial says', () => {
  const read = { workloads: 'all', services: ['shop'], secrets: [], namespaces: 'all', webhooks: [] } as const;
  for (const partial of [false, true]) {
    const s = new Snapshot([pod, secret], { partial, read });
    assert.equal(s.isPartial('workloads'), false);
    assert.equal(s.knows('workloads', 'anywhere'), true, 'read whole');
    assert.equal(s.knows('services', 'shop'), true, 'read in that namespace, even with none there');
    assert.equal(s.knows('services', 'other'), false);
    assert.equal(s.knows('secrets', 'shop'), false, 'not read (a bundle): unknown');
    assert.equal(s.knows('secrets', 'edge'), true, 'unless the input holds some there (files over the bundle)');
    assert.equal(s.knows('webhooks'), false);
  }
});

/** The checks that used to stand down without a cluster whatever the flag: each now reports by default and stands down with --partial. */
const BOTH_WAYS: [string, string, string][] = [
  ['destinationrule.SubsetSelectPodAnalyzer', 'IST0173-subsetpods-partial.ok.yaml', 'IST0173'],
  ['destinationrule.SubsetSelectPodAnalyzer', 'IST0174-drhost-partial.ok.yaml', 'IST0174'],
  ['webhook.Analyzer', 'IST0139-webhook-partial.ok.yaml', 'IST0139'],
  ['injection.ImageAutoAnalyzer', 'IST0146-imageauto-partial.ok.yaml', 'IST0146'],
  ['gateway.SecretAnalyzer', 'IST0101-credential-partial.ok.yaml', 'IST0101'],
  ['sidecar.SelectorAnalyzer', 'IST0101-sidecar-selector-partial.ok.yaml', 'IST0101'],
  ['auth.AuthorizationPoliciesAnalyzer', 'IST0101-authz-namespace-partial.ok.yaml', 'IST0101'],
  ['auth.AuthorizationPoliciesAnalyzer', 'IST0127-noworkloads-partial.ok.yaml', 'IST0127'],
];

for (const [analyzer, file, code] of BOTH_WAYS) {
  test(`${analyzer} on ${file}: ${code} by default, nothing with --partial`, async () => {
    const files = [`${C}/${file}`];
    const byDefault = await runAnalyze(files, { analyzer: [analyzer] });
    assert.ok(byDefault.lines.some((l) => l.includes(`[${code}]`)), byDefault.stdout);
    const partial = await runAnalyze(files, { analyzer: [analyzer], partial: true });
    assert.deepEqual(partial.lines.filter((l) => l.includes(`[${code}]`)), []);
  });
}
