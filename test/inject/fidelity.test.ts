import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { resolveSettings } from '../../src/inject/config.js';
import { injectText, uninjectText } from '../../src/inject/run.js';
import { ROOT } from '../helpers.js';

/** Istio's own injector test data, beside the clone in CI (or where MESHCTL_REFERENCE_DIR says); never copied into the project. */
const REFERENCE = path.join(process.env.MESHCTL_REFERENCE_DIR ?? path.join(ROOT, '..', 'shared', 'reference'), 'inject');
const available = existsSync(REFERENCE);
const skip = available ? false : `no reference data at ${REFERENCE}`;
const load = (text: string) => yaml.loadAll(text).filter((d) => d !== null);

function cases(): string[] {
  return readdirSync(REFERENCE)
    .filter((f) => f.endsWith('.yaml') && existsSync(path.join(REFERENCE, f + '.injected')))
    .sort();
}

test("Istio's reference inputs inject to Istio's reference outputs (as YAML data)", { skip }, () => {
  const settings = resolveSettings({ origin: 'test' }, { hub: 'registry.istio.io/testing', tag: 'latest' });
  const names = cases();
  assert.ok(names.length > 0, 'the reference folder has cases');
  for (const name of names) {
    const input = readFileSync(path.join(REFERENCE, name), 'utf8');
    const expected = readFileSync(path.join(REFERENCE, name + '.injected'), 'utf8');
    const got = injectText({ name, text: input }, settings);
    assert.deepEqual(load(got.text), load(expected), name);
  }
});

test("uninject takes Istio's injected outputs back to their inputs (as YAML data)", { skip }, () => {
  for (const name of cases()) {
    const input = readFileSync(path.join(REFERENCE, name), 'utf8');
    const injected = readFileSync(path.join(REFERENCE, name + '.injected'), 'utf8');
    const back = uninjectText({ name: name + '.injected', text: injected });
    assert.deepEqual(load(back.text), load(input), name);
  }
});
