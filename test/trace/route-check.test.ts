import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { checkRoute, type RouteCheckInput } from '../../src/trace/route-check.js';
import { ROOT, fixture } from '../helpers.js';

interface GoldenTest {
  test_name: string;
  input: RouteCheckInput;
  validate: Record<string, unknown>;
}

/** Runs every `N.yaml` + `N.golden.proto.json` pair in a folder: meshctl must decide as Envoy did. */
function runSuite(dir: string): number {
  let count = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const base = file.slice(0, -'.yaml'.length);
    const golden = path.join(dir, `${base}.golden.proto.json`);
    if (!existsSync(golden)) continue;
    const rc = yaml.load(readFileSync(path.join(dir, file), 'utf8'));
    const { tests } = JSON.parse(readFileSync(golden, 'utf8')) as { tests: GoldenTest[] };
    for (const t of tests) {
      const got = checkRoute(rc, t.input) as unknown as Record<string, unknown>;
      for (const [key, want] of Object.entries(t.validate)) {
        assert.ok(key in got, `${base} ${t.test_name}: meshctl does not compute ${key}`);
        assert.equal(got[key], want, `${base} ${t.test_name}: ${key} (input ${JSON.stringify(t.input)})`);
      }
      count++;
    }
  }
  return count;
}

test('our route-check fixtures: meshctl decides each request as written', () => {
  const n = runSuite(fixture('trace', 'route-check'));
  assert.ok(n >= 40, `expected our fixtures to hold at least 40 cases, found ${n}`);
});

// CI keeps the reference data beside the clone; MESHCTL_REFERENCE points elsewhere (e.g. from a worktree).
const reference = path.join(process.env.MESHCTL_REFERENCE ?? path.join(ROOT, '..', 'shared', 'reference'), 'envoy-route-check');
test('Envoy router check tool tests (../shared/reference): meshctl agrees with every one', { skip: !existsSync(reference) && 'reference data not present' }, () => {
  const n = runSuite(reference);
  assert.ok(n > 0, 'no reference cases found');
});
