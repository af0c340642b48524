import { MeshctlError } from '../errors.js';
import type { InputText } from '../source/file.js';
import { type InjectSettings, type Obj, InjectError, isObj } from './config.js';
import { type Chunk, docLabel, dumpYaml, joinDocuments, splitDocuments } from './documents.js';
import { injectPod } from './pod.js';
import { uninjectPod } from './uninject.js';
import { addGoZeroFields, describeObject, isList, isWorkload, podTarget } from './workloads.js';

export interface RunResult {
  text: string;
  /** One line each, for stderr: workloads skipped or left alone, and why. */
  notes: string[];
  changed: number;
}

const SKIP_NOTE = {
  hostNetwork: 'not injected: it uses host networking (spec.hostNetwork), where iptables rules would change the node',
  disabled: 'not injected: sidecar.istio.io/inject turns injection off',
  'never-inject-selector': "not injected: its labels match the injector's neverInjectSelector",
  'already-injected': 'already injected (it has a sidecar.istio.io/status annotation); left as it is',
} as const;

type PodFn = (doc: Obj, where: string, notes: string[]) => boolean;

/** A parsed input: parse first, so malformed YAML is reported before any cluster is asked anything. */
export interface Parsed {
  input: InputText;
  chunks: Chunk[];
  json: boolean;
}

export function parseInput(input: InputText): Parsed {
  return { input, ...splitDocuments(input) };
}

/** Applies `fn` to every injectable object of every document; everything else passes through untouched. */
function run(source: InputText | Parsed, fn: PodFn): RunResult {
  const { input, chunks, json } = 'chunks' in source ? source : parseInput(source);
  const notes: string[] = [];
  let changed = 0;
  for (const chunk of chunks) {
    const data = chunk.data;
    if (isWorkload(data)) {
      const copy = structuredClone(data);
      if (fn(copy, label(input, chunk, data), notes)) {
        chunk.data = copy;
        chunk.replacement = dumpYaml(copy);
        changed++;
      }
    } else if (isList(data) && Array.isArray(data.items)) {
      const copy = structuredClone(data);
      const items = copy.items as unknown[];
      let any = false;
      items.forEach((item, i) => {
        if (!isWorkload(item)) return;
        if (fn(item, `${label(input, chunk, data)} item ${i + 1} (${describeObject(item)})`, notes)) {
          any = true;
          changed++;
        } else items[i] = (data.items as unknown[])[i];
      });
      if (any) {
        chunk.data = copy;
        chunk.replacement = dumpYaml(copy);
      }
    }
  }
  return { text: joinDocuments(chunks, json), notes, changed };
}

function label(input: InputText, chunk: Chunk, data: unknown): string {
  return docLabel(input.name, chunk, describeObject(data));
}

function wrap<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof InjectError) throw new MeshctlError(`${where}: ${err.message}`);
    throw err;
  }
}

export function injectText(input: InputText | Parsed, settings: InjectSettings): RunResult {
  return run(input, (doc, where, notes) =>
    wrap(where, () => {
      const target = podTarget(doc);
      if (!target.workload.namespace && settings.namespace) target.workload.namespace = settings.namespace;
      const outcome = injectPod(target, settings);
      if (!outcome.injected) {
        notes.push(`${where}: ${SKIP_NOTE[outcome.reason]}`);
        return false;
      }
      addGoZeroFields(doc, target);
      return true;
    }),
  );
}

export function uninjectText(input: InputText | Parsed): RunResult {
  return run(input, (doc, where, notes) =>
    wrap(where, () => {
      const target = podTarget(doc);
      if (!uninjectPod(target, doc)) {
        notes.push(`${where}: not injected (no sidecar.istio.io/status annotation); left as it is`);
        return false;
      }
      return true;
    }),
  );
}

export { isObj };
