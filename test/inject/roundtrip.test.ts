import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { inject, uninject } from './util.js';

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/).filter((n) => n !== 'istio-proxy' && n !== 'istio-init');
const port = fc.integer({ min: 1, max: 65535 }).filter((p) => ![15001, 15006, 15020, 15021, 15090].includes(p));
const probe = fc.oneof(
  fc.record({ httpGet: fc.record({ path: fc.constantFrom('/', '/healthz', '/ready'), port }), periodSeconds: fc.integer({ min: 1, max: 60 }) }),
  fc.record({ tcpSocket: fc.record({ port }) }),
  fc.record({ grpc: fc.record({ port }), timeoutSeconds: fc.integer({ min: 1, max: 9 }) }),
);
const containerArb = fc.record(
  {
    name,
    image: fc.constantFrom('app:1', 'registry.example.com/x/y:2'),
    ports: fc.array(fc.record({ containerPort: port, name }, { requiredKeys: ['containerPort'] }), { maxLength: 3 }),
    readinessProbe: probe,
    livenessProbe: probe,
    resources: fc.constant({ requests: { cpu: '100m' } }),
    env: fc.array(fc.record({ name: fc.constantFrom('A', 'B', 'LOG'), value: fc.string({ maxLength: 8 }) }), { maxLength: 2 }),
  },
  { requiredKeys: ['name', 'image'] },
);
const kind = fc.constantFrom('Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet');
const labels = fc.dictionary(fc.constantFrom('app', 'version', 'team', 'app.kubernetes.io/name', 'tier'), name, { maxKeys: 4 });
const annotations = fc.dictionary(
  fc.constantFrom('team.example/owner', 'prometheus.io/port', 'prometheus.io/path', 'traffic.sidecar.istio.io/excludeOutboundPorts'),
  fc.constantFrom('9102', '/metrics', '3306', 'x'),
  { maxKeys: 3 },
).filter((a) => a['traffic.sidecar.istio.io/excludeOutboundPorts'] === undefined || /^\d+$/.test(a['traffic.sidecar.istio.io/excludeOutboundPorts']));

test('kube-inject then uninject gives back any workload we can generate (property)', () => {
  fc.assert(
    fc.property(kind, name, labels, annotations, fc.uniqueArray(containerArb, { minLength: 1, maxLength: 3, selector: (c) => c.name }), (k, n, l, a, containers) => {
      const apiVersion = k === 'Job' ? 'batch/v1' : 'apps/v1';
      const template: Record<string, unknown> = { spec: { containers } };
      if (Object.keys(l).length || Object.keys(a).length) {
        template.metadata = { ...(Object.keys(l).length ? { labels: l } : {}), ...(Object.keys(a).length ? { annotations: a } : {}) };
      }
      const original = { apiVersion, kind: k, metadata: { name: n }, spec: { template } };
      const text = yaml.dump(original);
      const injected = inject(text);
      assert.equal(injected.changed, 1);
      const back = uninject(injected.text);
      assert.deepEqual(back.docs[0], JSON.parse(JSON.stringify(original)));
    }),
    { numRuns: 100, seed: 20261121 },
  );
});
