import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseConfigDump } from '../../src/envoy/index.js';
import {
  clusterSummary,
  ecdsSummary,
  edsEndpointSummary,
  listenerSummary,
  routeSummary,
  secretRows,
  bootstrapSummary,
  filteredEndpointConfigs,
} from '../../src/envoy/summary.js';
import { redactSecrets } from '../../src/envoy/secrets.js';
import { MeshctlError } from '../../src/errors.js';
import { fixture } from '../helpers.js';

/** Every path to a value inside the dump, so a property can break any one of them. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (at.length) out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

const base = JSON.parse(readFileSync(fixture('bookinfo', 'productpage-config_dump.json'), 'utf8')) as unknown;
const allPaths = paths(base);
const junk = fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.boolean(), fc.constant([]), fc.constant({}), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.string(), { maxKeys: 2 }));

test('any value anywhere in a dump replaced by junk: tables still render, nothing throws but MeshctlError', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(allPaths.length - 1), junk), { minLength: 1, maxLength: 4 }), (edits) => {
      const dump = structuredClone(base) as Record<string, unknown>;
      for (const [i, value] of edits) {
        const p = allPaths[i];
        let o = dump as Record<string | number, unknown>;
        for (const k of p.slice(0, -1)) {
          const next = o?.[k];
          if (!next || typeof next !== 'object') return;
          o = next as Record<string | number, unknown>;
        }
        o[p[p.length - 1]] = value;
      }
      let model;
      try {
        model = parseConfigDump(dump, 'fuzz.json');
      } catch (e) {
        assert.ok(e instanceof MeshctlError, String(e));
        return;
      }
      clusterSummary(model, {}, true);
      listenerSummary(model, {}, true, true);
      listenerSummary(model, { type: 'http', address: '0.0.0.0', port: 9080 }, false);
      routeSummary(model, {}, true, true);
      edsEndpointSummary(model, {}, true);
      filteredEndpointConfigs(model, { status: 'healthy', address: '10.244.0.13' });
      secretRows(model);
      ecdsSummary(model);
      bootstrapSummary(model);
      redactSecrets(model.raw);
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 150), seed: Number(process.env.FUZZ_SEED ?? 42) },
  );
});
