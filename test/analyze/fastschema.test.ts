import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { check, checkFields, type Schema } from '../../src/analyze/fastschema.js';
import { prepareSchemas, specSchema, unknownFields, validateSchema } from '../../src/analyze/schema.js';
import { loadResources, type Resource } from '../../src/resources/index.js';
import { fixture } from '../helpers.js';

// The quick schema pre-check may only say 'valid' or 'invalid' where ajv agrees; 'unsure' is always
// allowed (ajv then decides). Both judge the spec schema analyze uses: the packaged one with the
// overlay of fields current Istio added (schema-overlay.ts).
const KINDS: Record<string, string> = {
  'networking.istio.io/VirtualService': 'v1beta1',
  'networking.istio.io/DestinationRule': 'v1beta1',
  'networking.istio.io/Gateway': 'v1beta1',
  'networking.istio.io/ServiceEntry': 'v1beta1',
  'networking.istio.io/Sidecar': 'v1beta1',
  'networking.istio.io/EnvoyFilter': 'v1alpha3',
  'security.istio.io/AuthorizationPolicy': 'v1',
  'security.istio.io/RequestAuthentication': 'v1',
  'telemetry.istio.io/Telemetry': 'v1alpha1',
  'extensions.istio.io/WasmPlugin': 'v1alpha1',
  'gateway.networking.k8s.io/HTTPRoute': 'v1',
  'gateway.networking.k8s.io/Gateway': 'v1',
};

async function validators() {
  const { register, validate } = await import('@kubernetes-models/validate');
  const out = new Map<string, { schema: Schema; ajvValid: (spec: unknown, base: Resource) => boolean }>();
  for (const [gk, version] of Object.entries(KINDS)) {
    const [group, kind] = gk.split('/');
    const schema = specSchema(group, version, kind);
    assert.ok(schema, gk);
    const id = `fastschema-test:${gk}`;
    register(id, { type: 'object', properties: { spec: schema } });
    out.set(gk, {
      schema: schema as Schema,
      ajvValid: (spec) => {
        try {
          validate(id, { spec });
          return true;
        } catch {
          return false;
        }
      },
    });
  }
  return out;
}

function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function mutate(spec: unknown, at: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(spec);
  if (at.length === 0) return value;
  let cur = copy as Record<string | number, unknown>;
  for (const k of at.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  const last = at[at.length - 1];
  if (value === DELETE) {
    if (Array.isArray(cur)) cur.splice(last as number, 1);
    else delete cur[last];
  } else cur[last] = value;
  return copy;
}

const DELETE = Symbol('delete');

test('the quick schema check never contradicts ajv, on the fixtures and on mutations of them', async () => {
  const vs = await validators();
  const { resources } = await loadResources([fixture('analyze')], { recursive: true });
  const covered = resources.filter((r) => vs.has(`${r.group}/${r.kind}`) && r.object.spec !== undefined);
  assert.ok(covered.length > 50, `${covered.length} resources`);
  let decided = 0;
  for (const r of covered) {
    const v = vs.get(`${r.group}/${r.kind}`)!;
    const verdict = check(v.schema, r.object.spec);
    if (verdict === 'unsure') continue;
    decided++;
    assert.equal(verdict === 'valid', v.ajvValid(r.object.spec, r), `${r.kind} ${r.name} in ${r.origin?.file}: quick ${verdict}`);
  }
  assert.ok(decided > covered.length / 2, 'the quick check decides most resources');

  const values = fc.constantFrom<unknown>('x', '', 7, -1, 1.5, 4294967296, true, null, {}, [], [1], { unexpected: 1 }, DELETE, 'ISTIO_MUTUAL', 'a'.repeat(300));
  fc.assert(
    fc.property(fc.nat(covered.length - 1), fc.nat(), values, (ri, pi, value) => {
      const r = covered[ri];
      const v = vs.get(`${r.group}/${r.kind}`)!;
      const ps = paths(r.object.spec);
      const spec = mutate(r.object.spec, ps[pi % ps.length], value);
      const verdict = check(v.schema, spec);
      if (verdict === 'unsure') return true;
      return (verdict === 'valid') === v.ajvValid(spec, r);
    }),
    { numRuns: 250, seed: 4242 },
  );
});

// validateSchema skips the unknown-field walk where the pre-check proved there is nothing for it to
// find; that proof must never hide an unknown field the walk reports.
test('a spec the pre-check passes as known fields only gets every unknown field reported', async () => {
  const vs = await validators();
  const { resources } = await loadResources([fixture('analyze')], { recursive: true });
  const covered = resources.filter((r) => vs.has(`${r.group}/${r.kind}`) && r.object.spec !== undefined);
  let proven = 0;
  for (const r of covered) if (checkFields(vs.get(`${r.group}/${r.kind}`)!.schema, r.object.spec).knownFieldsOnly) proven++;
  // the fixtures are mostly valid: the proof must hold for most of them, or the walk is not saved
  assert.ok(proven > covered.length / 2, `only ${proven} of ${covered.length} proven`);

  const objects = (spec: unknown) => paths(spec).filter((p) => {
    let cur: unknown = spec;
    for (const k of p) cur = (cur as Record<string | number, unknown>)[k];
    return cur !== null && typeof cur === 'object' && !Array.isArray(cur);
  });
  const values = fc.constantFrom<unknown>('x', 7, true, null, {}, [], [{ a: 1 }], { unexpected: 1 }, { hosts: ['a'] }, DELETE);
  const keys = fc.constantFrom('unexpected', 'name', 'hosts', 'host', 'match', 'route', 'port', 'labels', 'spec');
  await fc.assert(
    fc.asyncProperty(fc.nat(covered.length - 1), fc.nat(), values, fc.boolean(), keys, async (ri, pi, value, addKey, key) => {
      const r = covered[ri];
      // either replace a value somewhere, or add a key (often an unknown one) to some object
      const at = addKey ? [...objects(r.object.spec)[pi % objects(r.object.spec).length], key] : paths(r.object.spec)[pi % paths(r.object.spec).length];
      if (at.length === 0) return true;
      const spec = mutate(r.object.spec, at, value === DELETE && addKey ? 1 : value);
      const copy = { ...r, object: { ...r.object, spec } };
      await prepareSchemas([copy]);
      const reported = new Set(validateSchema(copy));
      for (const p of unknownFields(copy)) if (!reported.has(p)) return false;
      return true;
    }),
    { numRuns: 400, seed: 777 },
  );
});

test('known fields only: own properties, free-form objects and maps; not keys outside a node that lists some', () => {
  const s: Schema = { type: 'object', properties: { a: { type: 'string' }, m: { type: 'object', additionalProperties: { type: 'string' } }, free: { type: 'object' } } };
  assert.deepEqual(checkFields(s, { a: 'x', m: { any: 'v' }, free: { whatever: 1 } }), { verdict: 'valid', knownFieldsOnly: true });
  assert.deepEqual(checkFields(s, { a: 'x', b: 1 }), { verdict: 'valid', knownFieldsOnly: false });
  // a key listed only in a oneOf branch is not this node's own: the walk may judge it differently
  const branches: Schema = { type: 'object', properties: { a: { type: 'string' } }, oneOf: [{ properties: { b: { type: 'object' } } }] };
  assert.equal(checkFields(branches, { b: {} }).knownFieldsOnly, false);
  // a map that also lists properties: the walk takes the map's value schema for every key
  const both: Schema = { type: 'object', properties: { a: { type: 'object' } }, additionalProperties: { type: 'object' } };
  assert.equal(checkFields(both, { a: {} }).knownFieldsOnly, false);
  assert.equal(checkFields(s, { a: 7 }).knownFieldsOnly, false, 'never proven when not valid');
});
