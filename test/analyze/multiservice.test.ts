import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeResources, applyDefaultNamespace } from '../../src/analyze/engine.js';
import { parseResources } from '../../src/resources/index.js';

// deployment.MultiServiceAnalyzer works out a lone Service's own port clashes once and reuses them
// for every Deployment it selects: each Deployment must still get its own findings.

function deployment(name: string, app: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {app: ${app}}}
  template:
    metadata: {labels: {app: ${app}, version: ${name}, sidecar.istio.io/inject: "true"}}
    spec: {containers: [{name: c, image: nginx}]}
`;
}

async function findings(text: string): Promise<string[]> {
  const { resources, problems } = parseResources(text, 'm.yaml');
  assert.deepEqual(problems, []);
  applyDefaultNamespace(resources, 'default');
  const ds = await analyzeResources(resources, { analyzers: ['deployment.MultiServiceAnalyzer'] });
  return ds.map((d) => `${d.type.code} ${d.resource?.name}: ${d.message}`).sort();
}

const CLASHING = `apiVersion: v1
kind: Service
metadata: {name: dns}
spec:
  selector: {app: dns}
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
  - {name: http, port: 80, targetPort: 8080}
  - {name: http-alt, port: 8000, targetPort: 8080}
`;

test('every Deployment behind one self-clashing Service is reported, each under its own name', async () => {
  const out = await findings([CLASHING, deployment('a', 'dns'), deployment('b', 'dns'), deployment('c', 'other')].join('---\n'));
  assert.equal(out.length, 4, out.join('\n'));
  assert.equal(out.filter((l) => l.startsWith('IST0116 a:') && l.includes('deployment a is')).length, 1, out.join('\n'));
  assert.equal(out.filter((l) => l.startsWith('IST0116 b:') && l.includes('deployment b is')).length, 1, out.join('\n'));
  assert.equal(out.filter((l) => l.startsWith('IST0137 a:')).length, 1, out.join('\n'));
  assert.equal(out.filter((l) => l.startsWith('IST0137 b:')).length, 1, out.join('\n'));
});

test('a lone Service without clashes is no finding, and a second Service adds its clashes', async () => {
  const clean = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
`;
  assert.deepEqual(await findings([clean, deployment('a', 'web'), deployment('b', 'web')].join('---\n')), []);
  const alt = clean.replace('name: web}', 'name: web-alt}').replace('port: 80,', 'port: 8000,');
  const out = await findings([clean, alt, deployment('a', 'web')].join('---\n'));
  assert.equal(out.length, 1, out.join('\n'));
  assert.match(out[0], /^IST0137 a:/);
});
