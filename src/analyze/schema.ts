import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { checkFields, type Schema, type Verdict } from './fastschema.js';
import { withOverlay, type JsonSchema } from './schema-overlay.js';
import type { Resource } from '../resources/index.js';

/**
 * Schema validation (IST0106) with the published CRD schemas packaged by @kubernetes-models/istio 2.3
 * and @kubernetes-models/gateway-api 0.5.
 *
 * Coverage gaps, handled openly:
 * - networking.istio.io/v1 is not packaged; its schema is identical to v1beta1 (v1 was introduced as
 *   a promotion of v1beta1 with no field changes), so v1 objects are validated against v1beta1.
 * - security.istio.io/v1 PeerAuthentication is validated against v1beta1 (same fields);
 *   telemetry.istio.io/v1 Telemetry against v1alpha1 (same fields).
 * - gateway.networking.k8s.io/v1 GRPCRoute and ReferenceGrant use v1alpha2/v1beta1 (promoted unchanged);
 *   TLSRoute v1alpha3/v1 and TCPRoute v1 use v1alpha2; Gateway, GatewayClass and HTTPRoute use v1 in every version.
 * - Any other version of a kind (e.g. a future one) is not schema-checked rather than guessed at.
 * - Fields current Istio and Gateway API added since the packaged schemas (targetRefs, rules[].name, ...) come from
 *   the overlay in schema-overlay.ts, applied to the spec schema before anything uses it.
 * The packages' schemas check types and enums but accept unknown fields; unknown fields (typos such
 * as `hosst`) are what users get wrong most, so they are found by walking the same schemas. The spec
 * schema (with the overlay) is compiled by the packages' own ajv setup (@kubernetes-models/validate,
 * the formats they rely on included), registered under meshctl's id so the overlay is validated too.
 */
interface SchemaSpec {
  /** The package module whose source holds the schema. */
  module: string;
}

const ISTIO = '@kubernetes-models/istio';
const GW = '@kubernetes-models/gateway-api';

function spec(pkg: string, group: string, version: string, kind: string): SchemaSpec {
  return { module: `${pkg}/${group}/${version}/${kind}` };
}

const NETWORKING = ['DestinationRule', 'Gateway', 'ServiceEntry', 'Sidecar', 'VirtualService', 'WorkloadEntry', 'WorkloadGroup'];

function buildTable(): Map<string, SchemaSpec> {
  const t = new Map<string, SchemaSpec>();
  const n = 'networking.istio.io';
  for (const kind of NETWORKING) {
    t.set(`${n}/v1alpha3/${kind}`, spec(ISTIO, n, 'v1alpha3', kind));
    t.set(`${n}/v1beta1/${kind}`, spec(ISTIO, n, 'v1beta1', kind));
    t.set(`${n}/v1/${kind}`, spec(ISTIO, n, 'v1beta1', kind));
  }
  t.set(`${n}/v1alpha3/EnvoyFilter`, spec(ISTIO, n, 'v1alpha3', 'EnvoyFilter'));
  t.set(`${n}/v1beta1/ProxyConfig`, spec(ISTIO, n, 'v1beta1', 'ProxyConfig'));
  const s = 'security.istio.io';
  for (const kind of ['AuthorizationPolicy', 'RequestAuthentication']) {
    t.set(`${s}/v1/${kind}`, spec(ISTIO, s, 'v1', kind));
    t.set(`${s}/v1beta1/${kind}`, spec(ISTIO, s, 'v1beta1', kind));
  }
  t.set(`${s}/v1beta1/PeerAuthentication`, spec(ISTIO, s, 'v1beta1', 'PeerAuthentication'));
  t.set(`${s}/v1/PeerAuthentication`, spec(ISTIO, s, 'v1beta1', 'PeerAuthentication'));
  const tel = 'telemetry.istio.io';
  t.set(`${tel}/v1alpha1/Telemetry`, spec(ISTIO, tel, 'v1alpha1', 'Telemetry'));
  t.set(`${tel}/v1/Telemetry`, spec(ISTIO, tel, 'v1alpha1', 'Telemetry'));
  t.set('extensions.istio.io/v1alpha1/WasmPlugin', spec(ISTIO, 'extensions.istio.io', 'v1alpha1', 'WasmPlugin'));
  const g = 'gateway.networking.k8s.io';
  // the package's v1alpha2 Gateway and HTTPRoute are older snapshots (no infrastructure, parentRefs[].port,
  // ...); Gateway API serves every version of these kinds with the v1 schema, so all use it
  for (const kind of ['Gateway', 'GatewayClass', 'HTTPRoute']) {
    for (const v of ['v1', 'v1beta1', 'v1alpha2']) t.set(`${g}/${v}/${kind}`, spec(GW, g, 'v1', kind));
  }
  t.set(`${g}/v1beta1/ReferenceGrant`, spec(GW, g, 'v1beta1', 'ReferenceGrant'));
  t.set(`${g}/v1alpha2/ReferenceGrant`, spec(GW, g, 'v1alpha2', 'ReferenceGrant'));
  t.set(`${g}/v1/ReferenceGrant`, spec(GW, g, 'v1beta1', 'ReferenceGrant'));
  for (const kind of ['GRPCRoute', 'TCPRoute', 'TLSRoute', 'UDPRoute']) t.set(`${g}/v1alpha2/${kind}`, spec(GW, g, 'v1alpha2', kind));
  t.set(`${g}/v1/GRPCRoute`, spec(GW, g, 'v1alpha2', 'GRPCRoute'));
  // TLSRoute v1alpha3 (Gateway API v1.3) and v1 (v1.5, what src/kube/kinds.ts reads first), and TCPRoute v1
  // (apis/v1/tcproute_types.go), keep v1alpha2's fields (plus rules[].name, from the overlay)
  for (const v of ['v1alpha3', 'v1']) t.set(`${g}/${v}/TLSRoute`, spec(GW, g, 'v1alpha2', 'TLSRoute'));
  t.set(`${g}/v1/TCPRoute`, spec(GW, g, 'v1alpha2', 'TCPRoute'));
  return t;
}

const TABLE = buildTable();

/** Kinds (`group/Kind`) that have a packaged schema in some version: the schema analyzers, one per kind as istioctl has. */
export const SCHEMA_KINDS: string[] = [...new Set([...TABLE.keys()].map((k) => { const p = k.split('/'); return `${p[0]}/${p[2]}`; }))].sort();

const SCHEMA_GROUPS = new Set(SCHEMA_KINDS.map((k) => k.slice(0, k.lastIndexOf('/'))));

interface Loaded {
  /** The spec schema, overlay applied; undefined if the package's layout ever changes (then nothing is checked). */
  spec?: JsonSchema;
  /** The id the spec schema is registered under with ajv. */
  id: string;
  /** ajv's verdict on `{spec}`, throwing its errors; set up only when some resource of the kind is not plainly valid (ajv compiles slowly). */
  validate?: (data: unknown) => void;
  /** The unknown-field walk of the spec schema, looked up once per kind rather than per resource. */
  unknown?: UnknownCheck;
}

const loaded = new Map<string, Loaded>();
const verdicts = new WeakMap<Resource, Verdict>();
/** Resources whose spec the pre-check proved free of unknown fields. */
const knownFieldsOnly = new WeakSet<Resource>();
const require = createRequire(import.meta.url);

function keyOf(r: Resource): string {
  return `${r.group}/${r.version}/${r.kind}`;
}

/**
 * Reads the schemas of the kinds present and pre-checks every resource; the packaged validators
 * (ajv) are imported only for kinds where some resource is not plainly valid.
 */
export async function prepareSchemas(resources: readonly Resource[]): Promise<void> {
  const needAjv = new Set<string>();
  for (const r of resources) {
    // most resources are Kubernetes' own kinds: skip them without building a key
    if (!SCHEMA_GROUPS.has(r.group)) continue;
    const key = keyOf(r);
    const spec = TABLE.get(key);
    if (!spec) continue;
    let l = loaded.get(key);
    if (!l) loaded.set(key, (l = { spec: specSchemaOf(spec, r), id: `meshctl:${key}` }));
    const specSchema = l.spec;
    let verdict: Verdict = 'unsure';
    if (specSchema && r.object.spec === undefined) verdict = 'valid';
    else if (specSchema) {
      const checked = checkFields(specSchema as Schema, r.object.spec);
      verdict = checked.verdict;
      if (checked.knownFieldsOnly) knownFieldsOnly.add(r);
    }
    verdicts.set(r, verdict);
    if (verdict !== 'valid' && !l.validate && l.spec) needAjv.add(key);
  }
  if (needAjv.size === 0) return;
  const { register, validate } = await import('@kubernetes-models/validate');
  for (const key of needAjv) {
    const l = loaded.get(key)!;
    register(l.id, { type: 'object', properties: { spec: l.spec } });
    l.validate = (data) => validate(l.id, data);
  }
}

/** The spec schema of a packaged kind, with the overlay of fields current Istio added. */
function specSchemaOf(spec: SchemaSpec, r: { group: string; kind: string }): JsonSchema | undefined {
  const packaged = rawSchema(spec.module)?.properties?.spec;
  return packaged && withOverlay(`${r.group}/${r.kind}`, packaged);
}

/**
 * The spec schema analyze checks `group/version/Kind` against (overlay applied; the packaged one alone
 * with `packaged`), or undefined when not covered.
 */
export function specSchema(group: string, version: string, kind: string, packaged = false): JsonSchema | undefined {
  const spec = TABLE.get(`${group}/${version}/${kind}`);
  if (!spec) return undefined;
  return packaged ? rawSchema(spec.module)?.properties?.spec : specSchemaOf(spec, { group, kind });
}

/** Every `group/version/Kind` with a packaged schema. */
export function schemaVersions(): { group: string; version: string; kind: string }[] {
  return [...TABLE.keys()].map((k) => {
    const [group, version, kind] = k.split('/');
    return { group, version, kind };
  });
}

/**
 * The packaged schema object, read from the module's source: the package registers it with its own
 * ajv instance but does not export it. Undefined (no unknown-field check) if the layout ever changes.
 */
function rawSchema(module: string): JsonSchema | undefined {
  try {
    const text = readFileSync(require.resolve(module), 'utf8');
    const start = text.indexOf('const schema = ');
    const end = text.indexOf('\n};\n', start);
    if (start < 0 || end < 0) return undefined;
    return JSON.parse(text.slice(start + 'const schema = '.length, end + 2)) as JsonSchema;
  } catch {
    return undefined;
  }
}

export function hasSchema(r: Resource): boolean {
  return TABLE.has(keyOf(r));
}

/** Problems with a resource against its schema, as `path: what` strings; [] when valid or not covered. */
export function validateSchema(r: Resource): string[] {
  const l = loaded.get(keyOf(r));
  if (!l) return [];
  const problems: string[] = [];
  const verdict = verdicts.get(r) ?? 'unsure';
  if (verdict !== 'valid' && l.validate) {
    // only the spec: metadata is Kubernetes' business, and status is the controller's
    const data = { spec: r.object.spec };
    try {
      l.validate(data);
    } catch (err) {
      problems.push(...ajvProblems(err, data));
    }
  }
  if (!knownFieldsOnly.has(r)) problems.push(...unknownFields(r));
  return problems.length === 0 ? problems : [...new Set(problems)];
}

/** Unknown fields in a resource's spec (`spec.a.b: unknown field "x"`), by walking it against its schema. */
export function unknownFields(r: Resource): string[] {
  const l = loaded.get(keyOf(r));
  const specSchema = l?.spec;
  const problems: string[] = [];
  if (l && specSchema && r.object.spec !== undefined) (l.unknown ??= unknownCheck(specSchema))(r.object.spec, ['spec'], problems);
  return problems;
}

type AjvError = { instancePath?: string; message?: string; keyword?: string; params?: Record<string, unknown> };

function ajvProblems(err: unknown, object: Record<string, unknown>): string[] {
  const errors = (err as { errors?: AjvError[] }).errors;
  if (!errors) return [String((err as Error).message)];
  const out: string[] = [];
  for (const e of errors) {
    const path = jsonPath(e.instancePath ?? '');
    if (path.startsWith('metadata')) continue; // object metadata is Kubernetes' business
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'not') {
      out.push(`${path}: ${oneOfHint(e.instancePath ?? '', object)}`);
      continue;
    }
    let msg = e.message ?? 'invalid';
    if (e.keyword === 'enum' && Array.isArray(e.params?.allowedValues)) msg = `must be one of ${(e.params!.allowedValues as unknown[]).join(', ')}`;
    out.push(`${path}: ${msg}`);
  }
  return out;
}

function oneOfHint(instancePath: string, obj: unknown): string {
  const v = instancePath.split('/').slice(1).reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
  if (v && typeof v === 'object' && !Array.isArray(v)) return `only one of ${Object.keys(v).join(', ')} may be set`;
  return 'does not match any allowed form';
}

function jsonPath(instancePath: string): string {
  let out = '';
  for (const seg of instancePath.split('/').slice(1)) {
    const s = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(s) ? `[${s}]` : out === '' ? s : `.${s}`;
  }
  return out || '(root)';
}

const propsCache = new WeakMap<JsonSchema, Record<string, JsonSchema> | null>();

/** Keys a schema allows at this level, merging oneOf/anyOf/allOf branches (Istio uses them for "one of" fields). */
function propertiesOf(schema: JsonSchema): Record<string, JsonSchema> | undefined {
  const cached = propsCache.get(schema);
  if (cached !== undefined) return cached ?? undefined;
  const props = mergedProperties(schema);
  propsCache.set(schema, props ?? null);
  return props;
}

function mergedProperties(schema: JsonSchema): Record<string, JsonSchema> | undefined {
  let props: Record<string, JsonSchema> | undefined = schema.properties ? { ...schema.properties } : undefined;
  // branches mostly restate properties as constraints (`required`, stubs): they only add names, never replace a schema
  for (const branch of [...(schema.oneOf ?? []), ...(schema.anyOf ?? []), ...(schema.allOf ?? [])]) {
    const p = propertiesOf(branch);
    if (p) props = { ...p, ...(props ?? {}) };
  }
  return props;
}

/**
 * Where the walk is: the root name, then keys (strings) and list indexes (numbers). A stack the walk
 * pushes to and pops from, turned into `spec.a[0].b` only for a problem: most fields have none.
 */
type WalkPath = (string | number)[];

type UnknownCheck = (value: unknown, path: WalkPath, problems: string[]) => void;

function pathText(path: WalkPath): string {
  let out = String(path[0]);
  for (let i = 1; i < path.length; i++) out += typeof path[i] === 'number' ? `[${path[i]}]` : `.${path[i]}`;
  return out;
}

const unknownCache = new WeakMap<JsonSchema, UnknownCheck>();
const NOTHING: UnknownCheck = () => undefined;

/** Compiles the unknown-field walk for a schema node once (maps of allowed names, children precompiled). */
function unknownCheck(schema: JsonSchema): UnknownCheck {
  const done = unknownCache.get(schema);
  if (done) return done;
  unknownCache.set(schema, NOTHING);
  const fn = buildUnknown(schema);
  unknownCache.set(schema, fn);
  return fn;
}

function buildUnknown(schema: JsonSchema): UnknownCheck {
  if (schema.$ref) return NOTHING;
  const items = schema.items ? unknownCheck(schema.items) : undefined;
  const ap = schema.additionalProperties;
  // a map (labels, headers): its values may still be objects with a schema
  const mapValues = ap !== undefined && ap !== false ? (typeof ap === 'object' ? unknownCheck(ap) : NOTHING) : undefined;
  const props = propertiesOf(schema);
  // free-form objects (EnvoyFilter patch values, protobuf Struct) come through with no or empty properties
  const known = props && Object.keys(props).length > 0 ? new Map(Object.entries(props).map(([k, sub]) => [k, unknownCheck(sub)])) : undefined;
  return (value, path, problems) => {
    if (Array.isArray(value)) {
      if (items && items !== NOTHING) {
        for (let i = 0; i < value.length; i++) {
          path.push(i);
          items(value[i], path, problems);
          path.pop();
        }
      }
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const o = value as Record<string, unknown>;
    if (mapValues) {
      if (mapValues !== NOTHING) {
        for (const k in o) {
          path.push(k);
          mapValues(o[k], path, problems);
          path.pop();
        }
      }
      return;
    }
    if (!known) return;
    for (const k in o) {
      const sub = known.get(k);
      if (sub === NOTHING) continue;
      path.push(k);
      if (!sub) problems.push(`${pathText(path)}: unknown field "${k}"`);
      else sub(o[k], path, problems);
      path.pop();
    }
  };
}
