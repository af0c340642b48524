import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { analyzeResources, applyDefaultNamespace } from '../../src/analyze/engine.js';
import { caseOptions } from './cases.js';
import { loadResources } from '../../src/resources/index.js';
import { fixture } from '../helpers.js';

const DIR = fixture('analyze', 'cases');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

async function findings(file: string) {
  const { resources, problems } = await loadResources([path.join(DIR, file)]);
  assert.deepEqual(problems, [], `${file} must load cleanly`);
  applyDefaultNamespace(resources, 'default');
  return analyzeResources(resources, caseOptions(readFileSync(path.join(DIR, file), 'utf8')));
}

/** Lines marked `# <- CODE` in a fixture. */
function marked(file: string, code: string): number[] {
  const lines = readFileSync(path.join(DIR, file), 'utf8').split('\n');
  return lines.flatMap((l, i) => (l.includes(`# <- ${code}`) ? [i + 1] : []));
}

test('every bad case has a near miss and marks where its findings point', () => {
  const bad = files.filter((f) => f.endsWith('.bad.yaml'));
  assert.ok(bad.length >= 30, `only ${bad.length} cases`);
  for (const f of bad) {
    assert.ok(files.includes(f.replace('.bad.yaml', '.ok.yaml')), `${f} has no .ok.yaml near miss`);
    assert.ok(marked(f, f.slice(0, 7)).length > 0, `${f} marks no line`);
  }
});

for (const file of files) {
  const code = file.slice(0, 7);
  if (file.endsWith('.bad.yaml')) {
    test(`${file} triggers ${code} at the marked lines`, async () => {
      const ds = (await findings(file)).filter((d) => d.type.code === code);
      assert.ok(ds.length > 0, `no ${code} in ${file}`);
      const lines = [...new Set(ds.map((d) => d.line))].sort((a, b) => (a ?? 0) - (b ?? 0));
      assert.deepEqual(lines, marked(file, code), ds.map((d) => `${d.line}: ${d.message}`).join('\n'));
    });
  } else if (file.endsWith('.ok.yaml')) {
    test(`${file} (near miss) does not trigger ${code}`, async () => {
      const ds = (await findings(file)).filter((d) => d.type.code === code);
      assert.deepEqual(ds.map((d) => `${d.line}: ${d.message}`), []);
    });
  }
}
