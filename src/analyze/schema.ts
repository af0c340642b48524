import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
 * - gateway.networking.k8s.io/v1 GRPCRoute and ReferenceGrant use v1alpha2/v1beta1 (promoted unchanged).
 * - Any other version of a kind (e.g. a future one) is not schema-checked rather than guessed at.
 * The packages' validators check types and enums but accept unknown fields; unknown fields (typos such
 * as `hosst`) are what users get wrong most, so they are found by walking the same schemas.
 */
interface SchemaSpec {
  module: string;
  exportName: string;
  /** The apiVersion the packaged schema expects (its `apiVersion` enum). */
  apiVersion: string;
}

const ISTIO = '@kubernetes-models/istio';
const GW = '@kubernetes-models/gateway-api';

function spec(pkg: string, group: string, version: string, kind: string): SchemaSpec {
  return { module: `${pkg}/${group}/${version}/${kind}`, exportName: kind, apiVersion: `${group}/${version}` };
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
  for (const kind of ['Gateway', 'GatewayClass', 'HTTPRoute']) {
    for (const v of ['v1', 'v1beta1', 'v1alpha2']) t.set(`${g}/${v}/${kind}`, spec(GW, g, v, kind));
  }
  t.set(`${g}/v1beta1/ReferenceGrant`, spec(GW, g, 'v1beta1', 'ReferenceGrant'));
  t.set(`${g}/v1alpha2/ReferenceGrant`, spec(GW, g, 'v1alpha2', 'ReferenceGrant'));
  t.set(`${g}/v1/ReferenceGrant`, spec(GW, g, 'v1beta1', 'ReferenceGrant'));
  for (const kind of ['GRPCRoute', 'TCPRoute', 'TLSRoute', 'UDPRoute']) t.set(`${g}/v1alpha2/${kind}`, spec(GW, g, 'v1alpha2', kind));
  t.set(`${g}/v1/GRPCRoute`, spec(GW, g, 'v1alpha2', 'GRPCRoute'));
  return t;
}

const TABLE = buildTable();

/** Kinds (`group/Kind`) that have a packaged schema in some version: the schema analyzers, one per kind as istioctl has. */
export const SCHEMA_KINDS: string[] = [...new Set([...TABLE.keys()].map((k) => { const p = k.split('/'); return `${p[0]}/${p[2]}`; }))].sort();

type ModelCtor = new (data: unknown) => { validate(): void };

interface Loaded {
  ctor: ModelCtor;
  schema?: JsonSchema;
  apiVersion: string;
}

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
}

const loaded = new Map<string, Loaded | null>();
const require = createRequire(import.meta.url);

/** Imports the validators for the kinds present (only those: each schema module is sizeable). */
export async function prepareSchemas(resources: readonly Resource[]): Promise<void> {
  const wanted = new Set<string>();
  for (const r of resources) {
    const key = `${r.group}/${r.version}/${r.kind}`;
    if (TABLE.has(key) && !loaded.has(key)) wanted.add(key);
  }
  await Promise.all(
    [...wanted].map(async (key) => {
      const s = TABLE.get(key)!;
      try {
        const mod = (await import(s.module)) as Record<string, ModelCtor>;
        loaded.set(key, { ctor: mod[s.exportName], schema: rawSchema(s.module), apiVersion: s.apiVersion });
      } catch {
        loaded.set(key, null);
      }
    }),
  );
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
  return TABLE.has(`${r.group}/${r.version}/${r.kind}`);
}

/** Problems with a resource against its schema, as `path: what` strings; [] when valid or not covered. */
export function validateSchema(r: Resource): string[] {
  const l = loaded.get(`${r.group}/${r.version}/${r.kind}`);
  if (!l) return [];
  const problems: string[] = [];
  const { status: _status, ...rest } = r.object;
  try {
    new l.ctor({ ...rest, apiVersion: l.apiVersion }).validate();
  } catch (err) {
    const errors = (err as { errors?: { instancePath?: string; message?: string; keyword?: string; params?: Record<string, unknown> }[] }).errors;
    if (!errors) problems.push(String((err as Error).message));
    else {
      for (const e of errors) {
        const path = jsonPath(e.instancePath ?? '');
        if (path.startsWith('metadata')) continue; // object metadata is Kubernetes' business
        if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'not') {
          problems.push(`${path}: ${oneOfHint(e.instancePath ?? '', r.object)}`);
          continue;
        }
        let msg = e.message ?? 'invalid';
        if (e.keyword === 'enum' && Array.isArray(e.params?.allowedValues)) msg = `must be one of ${(e.params!.allowedValues as unknown[]).join(', ')}`;
        problems.push(`${path}: ${msg}`);
      }
    }
  }
  if (l.schema?.properties?.spec && r.object.spec !== undefined) unknownFields(r.object.spec, l.schema.properties.spec, 'spec', problems);
  return [...new Set(problems)];
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

/** Keys a schema allows at this level, merging oneOf/anyOf/allOf branches (Istio uses them for "one of" fields). */
function propertiesOf(schema: JsonSchema): Record<string, JsonSchema> | undefined {
  let props: Record<string, JsonSchema> | undefined = schema.properties ? { ...schema.properties } : undefined;
  for (const branch of [...(schema.oneOf ?? []), ...(schema.anyOf ?? []), ...(schema.allOf ?? [])]) {
    const p = propertiesOf(branch);
    if (p) props = { ...(props ?? {}), ...p };
  }
  return props;
}

function unknownFields(value: unknown, schema: JsonSchema, path: string, problems: string[]): void {
  if (schema.$ref) return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((v, i) => unknownFields(v, schema.items!, `${path}[${i}]`, problems));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) {
    // a map (labels, headers): its values may still be objects with a schema
    if (typeof schema.additionalProperties === 'object') {
      for (const [k, v] of Object.entries(value)) unknownFields(v, schema.additionalProperties, `${path}.${k}`, problems);
    }
    return;
  }
  const props = propertiesOf(schema);
  // free-form objects (EnvoyFilter patch values, protobuf Struct) come through with no or empty properties
  if (!props || Object.keys(props).length === 0) return;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const sub = props[k];
    if (!sub) {
      problems.push(`${path}.${k}: unknown field "${k}"`);
      continue;
    }
    unknownFields(v, sub, `${path}.${k}`, problems);
  }
}
