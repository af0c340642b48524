import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { resolveSettings } from '../../src/inject/config.js';
import { injectText, uninjectText } from '../../src/inject/run.js';
import { MeshctlError } from '../../src/errors.js';

const settings = resolveSettings({ origin: 'test' }, {});
const odd = fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 5 }), fc.boolean(), fc.constant([]), fc.constant({}), fc.array(fc.integer(), { maxLength: 2 }));
/** Mostly the right shape, sometimes anything. */
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ arbitrary: arb, weight: 15 }, { arbitrary: odd, weight: 1 });
const container = maybe(
  fc.record(
    {
      name: maybe(fc.constantFrom('app', 'web', 'istio-proxy', '')),
      image: maybe(fc.constant('a:1')),
      ports: maybe(fc.array(maybe(fc.record({ containerPort: maybe(fc.integer({ min: 1, max: 65535 })), name: maybe(fc.constant('http')) })), { maxLength: 2 })),
      readinessProbe: maybe(fc.record({ httpGet: maybe(fc.record({ port: maybe(fc.constantFrom(8080, 'http', 'x')), path: maybe(fc.constant('/')) })) })),
      lifecycle: maybe(fc.record({ preStop: maybe(fc.record({ tcpSocket: maybe(fc.record({ port: odd })) })) })),
      env: maybe(fc.array(maybe(fc.record({ name: odd, value: odd })), { maxLength: 2 })),
    },
    { requiredKeys: ['name'] },
  ),
);
const meta = maybe(
  fc.record(
    {
      name: maybe(fc.constant('w')),
      labels: maybe(fc.dictionary(fc.constantFrom('app', 'version', 'sidecar.istio.io/inject'), odd, { maxKeys: 2 })),
      annotations: maybe(
        fc.dictionary(
          fc.constantFrom('sidecar.istio.io/status', 'proxy.istio.io/config', 'sidecar.istio.io/userVolume', 'prometheus.io/port', 'proxy.istio.io/overrides'),
          fc.oneof(odd, fc.constantFrom('{}', '{"a":1}', '[', 'x: [')),
          { maxKeys: 2 },
        ),
      ),
    },
    { requiredKeys: [] },
  ),
);
const podSpec = maybe(fc.record({ containers: maybe(fc.array(container, { minLength: 1, maxLength: 3 })), initContainers: maybe(fc.array(container, { maxLength: 2 })), volumes: odd, hostNetwork: maybe(fc.boolean()) }, { requiredKeys: ['containers'] }));
const workload = fc.record({
  type: fc.constantFrom(
    { apiVersion: 'v1', kind: 'Pod' },
    { apiVersion: 'apps/v1', kind: 'Deployment' },
    { apiVersion: 'batch/v1', kind: 'CronJob' },
    { apiVersion: 'batch/v1', kind: 'Job' },
    { apiVersion: 'v1', kind: 'List' },
  ),
  metadata: meta,
  spec: maybe(fc.record({ template: maybe(fc.record({ metadata: meta, spec: podSpec }, { requiredKeys: ['spec'] })), jobTemplate: maybe(fc.record({ spec: maybe(fc.record({ template: maybe(fc.record({ metadata: meta, spec: podSpec }, { requiredKeys: ['spec'] })) })) })) }, { requiredKeys: ['template', 'jobTemplate'] })),
  items: maybe(fc.array(odd, { maxLength: 2 })),
});

test('odd manifests give a result or one MeshctlError, never a crash (inject and uninject)', () => {
  let injected = 0;
  let errors = 0;
  fc.assert(
    fc.property(workload, ({ type: { apiVersion, kind }, ...rest }) => {
      const doc = kind === 'Pod' ? { apiVersion, kind, metadata: rest.metadata, spec: (rest.spec as { template?: { spec?: unknown } } | null)?.template?.spec ?? rest.spec } : { apiVersion, kind, ...rest };
      const text = yaml.dump(doc);
      for (const run of [() => injectText({ name: 'x.yaml', text }, settings), () => uninjectText({ name: 'x.yaml', text })]) {
        try {
          const r = run();
          assert.equal(typeof r.text, 'string');
          injected += r.changed;
        } catch (err) {
          assert.ok(err instanceof MeshctlError, `not a MeshctlError: ${(err as Error).stack}\n${text}`);
          assert.ok(!err.message.includes('\n'));
          errors++;
        }
      }
    }),
    { numRuns: 400, seed: 424242 },
  );
  // the generator reaches both outcomes, so the property is about something
  assert.ok(injected > 20 && errors > 20, `injected ${injected}, errors ${errors}`);
});
