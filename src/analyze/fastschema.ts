/**
 * A quick pre-check of a value against the packaged CRD schemas, so that valid resources (nearly all
 * of them) never pay for compiling the schemas with ajv, which costs far more than analyzing
 * thousands of resources. It answers 'valid' only when it has checked every keyword on the way;
 * anything it does not implement is 'unsure', and 'invalid' or 'unsure' hand over to the packaged
 * ajv validator, which stays the authority on what is wrong. test/analyze/fastschema.test.ts holds
 * it to ajv's verdicts.
 */
export interface Schema {
  [keyword: string]: unknown;
}

export type Verdict = 'valid' | 'invalid' | 'unsure';

const HANDLED = new Set([
  'type', 'nullable', 'properties', 'required', 'maxLength', 'minLength', 'pattern', 'enum', 'format', 'items',
  'maxItems', 'minItems', 'maxProperties', 'default', 'oneOf', 'anyOf', 'allOf', 'not', 'additionalProperties',
  'minimum', 'maximum', 'description',
]);

type Check = (v: unknown) => Verdict;

const compiled = new WeakMap<Schema, Check>();
const UNSURE: Check = () => 'unsure';

// types and formats are tested by a switch on the keyword rather than through a closure per schema
// node: one well-optimised function instead of a megamorphic call at every value
const TYPES = new Set(['string', 'boolean', 'integer', 'number', 'object', 'array']);
const FORMATS = new Set(['int32', 'int64', 'double', 'binary']); // others (ipv4, date-time, ...): left to ajv

function typeMatches(type: string, v: unknown): boolean {
  switch (type) {
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'object': return v !== null && typeof v === 'object' && !Array.isArray(v);
    default: return Array.isArray(v); // 'array'
  }
}

function formatMatches(format: string, v: unknown): boolean {
  if (typeof v !== 'number') return true;
  switch (format) {
    case 'int32': return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;
    case 'int64': return Number.isInteger(v);
    default: return true; // 'double', 'binary'
  }
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** ajv counts string length in code points, not UTF-16 units. */
function length(v: string): number {
  return SURROGATE.test(v) ? [...v].length : v.length;
}

function worst(a: Verdict, b: Verdict): Verdict {
  if (a === 'invalid' || b === 'invalid') return 'invalid';
  if (a === 'unsure' || b === 'unsure') return 'unsure';
  return 'valid';
}

/** Compiles a schema node once into a function; the schemas are shared module-level objects. */
function compile(schema: Schema): Check {
  const done = compiled.get(schema);
  if (done) return done;
  // placeholder first: schemas are trees, but be safe against cycles
  compiled.set(schema, UNSURE);
  const fn = build(schema);
  compiled.set(schema, fn);
  return fn;
}

function build(schema: Schema): Check {
  for (const k of Object.keys(schema)) if (!HANDLED.has(k)) return UNSURE;
  const nullable = schema.nullable === true;
  const hasType = schema.type !== undefined;
  if (hasType && !TYPES.has(schema.type as string)) return UNSURE;
  const type = hasType ? (schema.type as string) : undefined;
  if (schema.format !== undefined && !FORMATS.has(schema.format as string)) return UNSURE;
  const format = schema.format !== undefined ? (schema.format as string) : undefined;
  let inEnum: ((v: unknown) => boolean) | undefined;
  if (Array.isArray(schema.enum)) {
    const prims = new Set(schema.enum.filter((e) => e === null || typeof e !== 'object'));
    const objs = schema.enum.filter((e) => e !== null && typeof e === 'object').map((e) => JSON.stringify(e));
    inEnum = (v) => prims.has(v) || (objs.length > 0 && objs.includes(JSON.stringify(v)));
  }
  const re = typeof schema.pattern === 'string' ? new RegExp(schema.pattern, 'u') : undefined;
  const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : undefined;
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : undefined;
  const minimum = typeof schema.minimum === 'number' ? schema.minimum : undefined;
  const maximum = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  const maxItems = typeof schema.maxItems === 'number' ? schema.maxItems : undefined;
  const minItems = typeof schema.minItems === 'number' ? schema.minItems : undefined;
  const maxProps = typeof schema.maxProperties === 'number' ? schema.maxProperties : undefined;
  if (schema.items !== undefined && (typeof schema.items !== 'object' || Array.isArray(schema.items))) return UNSURE;
  const items = schema.items !== undefined ? compile(schema.items as Schema) : undefined;
  const propSchemas = (schema.properties ?? {}) as Record<string, Schema>;
  const props = new Map<string, Check>();
  for (const [k, sub] of Object.entries(propSchemas)) props.set(k, compile(sub));
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  const ap = schema.additionalProperties;
  if (ap !== undefined && typeof ap !== 'boolean' && (typeof ap !== 'object' || ap === null)) return UNSURE;
  const additional = ap !== undefined && typeof ap === 'object' ? compile(ap as Schema) : undefined;
  const closed = ap === false;
  const allOf = Array.isArray(schema.allOf) ? schema.allOf.map((s) => compile(s as Schema)) : undefined;
  const anyOf = Array.isArray(schema.anyOf) ? schema.anyOf.map((s) => compile(s as Schema)) : undefined;
  const atMostOne = Array.isArray(schema.oneOf) ? oneOfKeys(schema.oneOf as Schema[]) : undefined;
  const oneOf = Array.isArray(schema.oneOf) && !atMostOne ? schema.oneOf.map((s) => compile(s as Schema)) : undefined;
  const not = schema.not !== undefined ? compile(schema.not as Schema) : undefined;
  // what schema.ts's unknown-field walk does with an object here: a map (additionalProperties) walks
  // every value with that schema; a node with no properties anywhere (not even in branches) is
  // free-form; otherwise a key outside this node's own properties may be an unknown field
  const mapNode = ap !== undefined && ap !== false;
  const freeForm = props.size === 0 && schema.oneOf === undefined && schema.anyOf === undefined && schema.allOf === undefined;
  const strict = !mapNode && !freeForm;

  // indexed loops throughout: this runs for every node of every resource, mostly before V8 optimises
  // it, and for-of over an array allocates an iterator there
  return (v) => {
    // nullable lets null past the type; ajv still holds it to enum (which must then list null) and to the combinators
    if (v === null) {
      if (hasType && !nullable) return 'invalid';
    } else if (type !== undefined && !typeMatches(type, v)) return 'invalid';
    if (inEnum && !inEnum(v)) return 'invalid';
    if (format !== undefined && !formatMatches(format, v)) return 'invalid';
    let verdict: Verdict = 'valid';
    if (typeof v === 'string') {
      if (re && !re.test(v)) return 'invalid';
      if (maxLength !== undefined && v.length > maxLength && length(v) > maxLength) return 'invalid';
      if (minLength !== undefined && length(v) < minLength) return 'invalid';
    } else if (typeof v === 'number') {
      if (minimum !== undefined && v < minimum) return 'invalid';
      if (maximum !== undefined && v > maximum) return 'invalid';
    } else if (Array.isArray(v)) {
      if (maxItems !== undefined && v.length > maxItems) return 'invalid';
      if (minItems !== undefined && v.length < minItems) return 'invalid';
      if (items) {
        for (let i = 0; i < v.length; i++) {
          const r = items(v[i]);
          if (r === 'invalid') return r;
          if (r === 'unsure') verdict = r;
        }
      }
    } else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (let i = 0; i < required.length; i++) if (o[required[i]] === undefined) return 'invalid';
      let count = 0;
      for (const k in o) {
        count++;
        const sub = props.get(k);
        let r: Verdict;
        if (sub) {
          // the unknown-field walk would take a map's value schema here, not this property's
          if (mapNode) knownFieldsOnly = false;
          r = sub(o[k]);
        } else if (closed) return 'invalid';
        else if (additional) r = additional(o[k]);
        else {
          if (strict) knownFieldsOnly = false;
          continue;
        }
        if (r === 'invalid') return r;
        if (r === 'unsure') verdict = r;
      }
      if (maxProps !== undefined && count > maxProps) return 'invalid';
    }
    if (allOf) for (let i = 0; i < allOf.length; i++) verdict = worst(verdict, allOf[i](v));
    if (anyOf) {
      let any: Verdict = 'invalid';
      for (let i = 0; i < anyOf.length; i++) {
        const r = anyOf[i](v);
        if (r === 'valid') { any = 'valid'; break; }
        if (r === 'unsure') any = 'unsure';
      }
      verdict = worst(verdict, any);
    }
    if (atMostOne) {
      // Istio's "at most one of these fields" idiom, decided by counting the fields present
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        let present = 0;
        for (let i = 0; i < atMostOne.keys.length; i++) if ((v as Record<string, unknown>)[atMostOne.keys[i]] !== undefined) present++;
        const ok = present === 1 || (present === 0 && atMostOne.noneBranch);
        if (!ok) return 'invalid';
      } else {
        // `required` holds for non-objects: every required-branch passes, the none-branch fails
        const ok = atMostOne.keys.length === 1;
        if (!ok) return 'invalid';
      }
    }
    if (oneOf) {
      let valid = 0;
      let unsure = false;
      for (let i = 0; i < oneOf.length; i++) {
        const r = oneOf[i](v);
        if (r === 'valid') valid++;
        else if (r === 'unsure') unsure = true;
      }
      verdict = worst(verdict, unsure ? 'unsure' : valid === 1 ? 'valid' : 'invalid');
    }
    if (not) {
      const r = not(v);
      verdict = worst(verdict, r === 'unsure' ? 'unsure' : r === 'valid' ? 'invalid' : 'valid');
    }
    return verdict;
  };
}

function requiredOnly(s: Schema): string | undefined {
  const keys = Object.keys(s);
  if (keys.length !== 1 || keys[0] !== 'required' || !Array.isArray(s.required) || s.required.length !== 1) return undefined;
  return typeof s.required[0] === 'string' ? s.required[0] : undefined;
}

/**
 * Recognises `oneOf: [{not: {anyOf: [{required: [a]}, {required: [b]}]}}, {required: [a]}, {required: [b]}]`
 * (the none-branch optional): "at most one of a, b", which is then checked without evaluating branches.
 */
function oneOfKeys(branches: Schema[]): { keys: string[]; noneBranch: boolean } | undefined {
  const keys: string[] = [];
  let none: string[] | undefined;
  for (const b of branches) {
    const k = requiredOnly(b);
    if (k !== undefined) {
      keys.push(k);
      continue;
    }
    const bk = Object.keys(b);
    const inner = b.not as Schema | undefined;
    if (none || bk.length !== 1 || bk[0] !== 'not' || !inner || Object.keys(inner).length !== 1 || !Array.isArray(inner.anyOf)) return undefined;
    none = [];
    for (const a of inner.anyOf as Schema[]) {
      const ak = requiredOnly(a);
      if (ak === undefined) return undefined;
      none.push(ak);
    }
  }
  if (keys.length === 0) return undefined;
  if (none && (none.length !== keys.length || !none.every((k) => keys.includes(k)))) return undefined;
  if (new Set(keys).size !== keys.length) return undefined;
  return { keys, noneBranch: none !== undefined };
}

export function check(schema: Schema, v: unknown): Verdict {
  return compile(schema)(v);
}

/** Cleared by the walk when it meets an object key the unknown-field walk might report. */
let knownFieldsOnly = true;

/**
 * check(), and whether the unknown-field walk of schema.ts is sure to find nothing: true only when the
 * verdict is 'valid' and every object key met was one of its node's own properties, or a value of a
 * map, or in a free-form object, so that walk would go down the same schema nodes and accept each
 * key. Then it need not run at all (it is a second walk over every resource). False is always safe.
 */
export function checkFields(schema: Schema, v: unknown): { verdict: Verdict; knownFieldsOnly: boolean } {
  knownFieldsOnly = true;
  const verdict = compile(schema)(v);
  return { verdict, knownFieldsOnly: verdict === 'valid' && knownFieldsOnly };
}
