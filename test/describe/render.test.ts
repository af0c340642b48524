import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Chalk } from 'chalk';
import { loadMeshObjects } from '../../src/describe/load.js';
import { defaultMeshSettings } from '../../src/describe/mesh.js';
import { renderPodReport } from '../../src/describe/render.js';
import { describePod } from '../../src/describe/report.js';
import { fixture } from '../helpers.js';

test('render: with colour on, headers are bold and warnings yellow; with it off, plain text', async () => {
  const objects = await loadMeshObjects([fixture('describe', 'bookinfo')]);
  const pod = objects.pods.find((p) => p.metadata?.name?.startsWith('ratings-'))!;
  const report = describePod(objects, pod, { mesh: defaultMeshSettings(), currentNamespace: 'default' });
  const coloured = renderPodReport(report, new Chalk({ level: 1 }), 'default');
  assert.match(coloured, /\x1b\[1mPod:\x1b\[22m ratings-/);
  assert.match(coloured, /\x1b\[33mWARNING: No destinations match pod subsets/);
  const plain = renderPodReport(report, new Chalk({ level: 0 }), 'default');
  assert.doesNotMatch(plain, /\x1b\[/);
  assert.equal(plain, coloured.replace(/\x1b\[[0-9;]*m/g, ''));
});

test('render: names outside the current namespace carry .namespace, as istioctl prints them', async () => {
  const objects = await loadMeshObjects([fixture('describe', 'bookinfo')]);
  const pod = objects.pods.find((p) => p.metadata?.name?.startsWith('reviews-v1'))!;
  const report = describePod(objects, pod, { mesh: defaultMeshSettings(), currentNamespace: 'elsewhere' });
  const text = renderPodReport(report, new Chalk({ level: 0 }), 'elsewhere');
  assert.match(text, /^Pod: reviews-v1-8b4c7d8d5-5kq2r\.default\n/);
  assert.match(text, /\nService: reviews\.default\n/);
  assert.match(text, /\nDestinationRule: reviews\.default for "reviews"\n/);
  assert.match(text, /\nVirtualService: reviews\.default\n/);
});
