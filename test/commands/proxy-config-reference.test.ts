import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT, runCli } from '../helpers.js';

/**
 * Fidelity against istioctl's own output for real dumps (Istio's test data). The reference folder sits
 * beside the clone in CI; worktrees of the project sit one level deeper. Skipped when it is absent.
 */
const REFERENCE = [path.resolve(ROOT, '..', 'shared', 'reference', 'envoy'), path.resolve(ROOT, '..', '..', 'shared', 'reference', 'envoy')].find(
  (p) => existsSync(p),
);

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trimEnd());
}

const cases: [string, string[], string][] = [
  ['all --with-headers matches istioctl line for line', ['proxy-config', 'all', '--with-headers'], 'sidecar-config_dump'],
  ['secret (with a warming secret) matches istioctl line for line', ['proxy-config', 'secret'], 'secrets-config_dump'],
];

for (const [name, args, base] of cases) {
  test(name, { skip: REFERENCE ? false : 'no ../shared/reference/envoy beside the project' }, async () => {
    const expectedFile = args[1] === 'all' ? `${base}.all.txt` : `${base}.secret.txt`;
    const expected = readFileSync(path.join(REFERENCE!, expectedFile), 'utf8');
    const r = await runCli([...args, '-f', path.join(REFERENCE!, `${base}.json`)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(lines(r.stdout), lines(expected));
  });
}
