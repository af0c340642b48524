/**
 * Property-based mutation of the real Bookinfo dump: whatever fields are deleted or given the wrong
 * type, proxy-config either renders or fails with a MeshctlError (one clear line) — never a TypeError
 * or other crash — and never prints the fixture's private key.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { proxyConfig, PROXY_CONFIG_KINDS, type ProxyConfigKind } from '../../src/commands/proxy-config.js';
import { MeshctlError } from '../../src/errors.js';
import type { EnvoyAdminSource } from '../../src/source/envoy-admin.js';
import { fixture } from '../helpers.js';

const text = readFileSync(fixture('bookinfo', 'productpage-config_dump.json'), 'utf8');
const original = JSON.parse(text) as unknown;

type Path = (string | number)[];
function allPaths(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (value === null || typeof value !== 'object') return out;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const p = [...prefix, Array.isArray(value) ? Number(k) : k];
    out.push(p);
    allPaths(v, p, out);
  }
  return out;
}
const PATHS = allPaths(original);

// the PEM body of the test-only private key, wherever the fixture carries it
const keyMarkers = [...text.matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----\\n([A-Za-z0-9+/]{40})/g)].map((m) => m[1]);
const inlineKeys = [...text.matchAll(/"private_key":\s*\{\s*"inline_bytes":\s*"([A-Za-z0-9+/=]{40})/g)].map((m) => m[1]);

const WRONG = [null, 42, -1, 'x', '', true, [], {}, [1, 'two'], { '@type': 'bogus' }, 1e308, '\u0000'];

const mutation = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('delete', 'replace'),
  value: fc.constantFrom(...WRONG),
});

function mutate(doc: unknown, ms: { at: number; kind: string; value: unknown }[]): unknown {
  const copy = structuredClone(doc);
  for (const m of ms) {
    const path = PATHS[m.at % PATHS.length];
    let parent = copy as Record<string | number, unknown>;
    let ok = true;
    for (const key of path.slice(0, -1)) {
      const next = parent?.[key];
      if (next === null || typeof next !== 'object') {
        ok = false;
        break;
      }
      parent = next as Record<string | number, unknown>;
    }
    if (!ok) continue;
    const last = path[path.length - 1];
    if (m.kind === 'delete') {
      if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
      else delete parent[last];
    } else parent[last] = structuredClone(m.value);
  }
  return copy;
}

function sourceOf(doc: unknown): EnvoyAdminSource {
  const input = { name: 'mutated.json', text: JSON.stringify(doc) };
  return { name: 'mutated.json', offline: true, get: async () => input, close: async () => undefined };
}

test('proxy-config survives mutations of a real dump (fast-check)', async (t) => {
  assert.ok(PATHS.length > 1000, 'the fixture is realistic enough to mutate');
  assert.ok(keyMarkers.length + inlineKeys.length > 0, 'the fixture carries a test private key to look for');
  let runs = 0;
  let rendered = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(mutation, { minLength: 1, maxLength: 6 }),
      fc.constantFrom(...PROXY_CONFIG_KINDS),
      fc.constantFrom('short', 'json', 'yaml') as fc.Arbitrary<'short' | 'json' | 'yaml'>,
      async (ms, kind: ProxyConfigKind, output) => {
        runs++;
        const doc = mutate(original, ms);
        try {
          const r = await proxyConfig(kind, { output, verbose: true, withHeaders: true, now: new Date('2026-01-01T00:00:00Z') }, sourceOf(doc));
          rendered++;
          for (const marker of [...keyMarkers, ...inlineKeys]) assert.ok(!r.stdout.includes(marker), `private key printed by ${kind} -o ${output}`);
        } catch (err) {
          if (!(err instanceof MeshctlError)) throw err;
          assert.ok(!err.message.includes('\n'), 'an error is one line');
        }
      },
    ),
    { numRuns: 300, seed: 20261121 },
  );
  t.diagnostic(`mutated dumps tried: ${runs}, rendered: ${rendered}, clear errors: ${runs - rendered}`);
});
