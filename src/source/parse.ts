import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type jsYaml from 'js-yaml';
import { MeshctlError } from '../errors.js';
import type { InputText } from './file.js';
import { locateJsonError } from './json-error.js';

// js-yaml is loaded on first use: most runs read JSON, and every module loaded costs start-up time
let yamlModule: typeof jsYaml | undefined;
const yaml = (): typeof jsYaml => (yamlModule ??= createRequire(import.meta.url)('js-yaml') as typeof jsYaml);

/**
 * Parses one JSON or YAML document. JSON is tried first when the text looks like JSON, because
 * JSON.parse is many times faster than a YAML parser on the multi-megabyte dumps this tool reads.
 */
export function parseDocument(input: InputText): unknown {
  const first = input.text.trimStart()[0];
  if (first === '{' || first === '[') return parseJson(input);
  refuseHtml(input);
  try {
    return checkExpansion(yaml().load(input.text, { filename: input.name }), input);
  } catch (err) {
    if (err instanceof MeshctlError) throw err;
    throw new MeshctlError(`${input.name}: not valid JSON or YAML: ${yamlReason(err)}`);
  }
}

export function parseJson(input: InputText): unknown {
  const large = input.text.length >= LARGE_TEXT;
  if (large) collectBeforeParse();
  const quiet = large && !userSetMarking;
  if (quiet) setFlagsFromString('--no-incremental-marking');
  try {
    return JSON.parse(input.text);
  } catch (err) {
    throw new MeshctlError(`${input.name}: ${jsonReason(input.text, err)}`);
  } finally {
    if (quiet) setFlagsFromString('--incremental-marking');
  }
}

/**
 * A large JSON.parse runs without V8's incremental marking. The scavenges of meshctl's start-up lead V8
 * to lower its first old-generation limit (by their low survival rate) to ~40 MB; the parse of a dump of
 * a few tens of MB crosses it, and the rest of the parse then runs with marking on, which makes every
 * scavenge of the parse two to three times as costly (`node --trace-gc`). Without it, V8 does one
 * full collection instead when the limit is reached: a 32 MB sidecar dump's trace 1.6x -> 1.1x the bare
 * read + JSON.parse, a 14 MB ztunnel dump's `zc all` ~5% less CPU (bench/RESULTS.md). Only for the
 * parse: turned off for the whole run, the full collection V8 starts when the Buffer of a 200 MB dump is
 * allocated (external memory) is no longer incremental and keeps that Buffer alive, +200 MB peak RSS.
 */
const LARGE_TEXT = 1024 * 1024;
const userSetMarking = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('incremental-marking'));

/**
 * One full collection right before the first large parse, while the heap holds little besides the text.
 * That limit of ~40 MB (above) is still crossed by a parse of a 14 MB dump, and the full collection V8
 * then does in the middle of the parse marks everything parsed so far (15-30 ms on a ztunnel dump of
 * 10,000 workloads). Collected before, it costs ~4 ms (the text is one object), and V8 sets the next
 * limit from what is live then, the text included, so the parse's objects fit under it: `ztunnel-config
 * all` on that dump ~5% less CPU (bench/RESULTS.md). `gc` is exposed to a new context only, never to
 * meshctl's own; once per run, as a later parse starts with the limit raised already.
 */
let collected = false;
function collectBeforeParse(): void {
  if (collected) return;
  collected = true;
  try {
    if (typeof (globalThis as { gc?: unknown }).gc !== 'function') setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  } catch {
    // a Node whose V8 does not expose gc this way: the parse runs as it would have without
  }
}

/** Parses every document of a multi-document YAML (or one JSON) text. */
export function parseDocuments(input: InputText): unknown[] {
  const first = input.text.trimStart()[0];
  if (first === '{' || first === '[') return [parseJson(input)];
  refuseHtml(input);
  try {
    return yaml().loadAll(input.text, undefined, { filename: input.name }).map((doc) => checkExpansion(doc, input));
  } catch (err) {
    if (err instanceof MeshctlError) throw err;
    throw new MeshctlError(`${input.name}: not valid YAML: ${yamlReason(err)}`);
  }
}

/**
 * An HTML page (a proxy's error page, a login portal, a port that is not Envoy's admin API) would
 * otherwise load as one YAML string and fail later with a puzzling "the document is a string".
 */
function refuseHtml(input: InputText): void {
  const head = input.text.trimStart().slice(0, 512);
  if (!/^<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>]|\?xml)/i.test(head)) return;
  const title = /<title>([^<]{1,80})<\/title>/i.exec(input.text.slice(0, 4096))?.[1]?.trim();
  throw new MeshctlError(`${input.name}: an HTML page${title ? ` ("${title}")` : ''}, not JSON or YAML`);
}

/** Nodes a YAML document may expand to through aliases; far above any real manifest or dump. */
export const MAX_YAML_NODES = 5_000_000;

/**
 * js-yaml shares aliased objects instead of copying them, so a "billion laughs" document loads in
 * milliseconds and only explodes later, when something walks or prints it. Its expanded size is
 * computed once per distinct object (memoised; js-yaml's depth limit keeps the recursion shallow),
 * and only for texts that define anchors at all.
 */
function checkExpansion(doc: unknown, input: InputText): unknown {
  if (!/(^|[\s[{,:-])&[^\s]/m.test(input.text)) return doc;
  const sizes = new Map<object, number>();
  const expanded = (node: unknown): number => {
    if (node === null || typeof node !== 'object') return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    let total = 1;
    for (const v of Object.values(node as Record<string, unknown>)) {
      total += expanded(v);
      if (total > MAX_YAML_NODES) break;
    }
    sizes.set(node, total);
    return total;
  };
  if (expanded(doc) > MAX_YAML_NODES) {
    throw new MeshctlError(
      `${input.name}: YAML aliases expand to more than ${MAX_YAML_NODES} nodes (an alias bomb?); refusing to read it`,
    );
  }
  return doc;
}

function jsonReason(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const where = locateJsonError(text);
  if (!where) return `invalid JSON: ${message}`;
  if (where.truncated) {
    return `truncated JSON (input ends after ${Buffer.byteLength(text)} bytes, before the document is complete)`;
  }
  const { line, column } = lineColumn(text, where.offset);
  const found = JSON.stringify(text.slice(where.offset, where.offset + 12));
  return `invalid JSON at line ${line} column ${column}: expected ${where.expected}, found ${found}`;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastNl = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lastNl = i;
    }
  }
  return { line, column: offset - lastNl };
}

function yamlReason(err: unknown): string {
  if (yamlModule && err instanceof yamlModule.YAMLException) {
    const mark = err.mark as { line?: number; column?: number } | undefined;
    const where = mark && mark.line !== undefined ? ` at line ${mark.line + 1} column ${(mark.column ?? 0) + 1}` : '';
    return `${err.reason}${where}`;
  }
  return err instanceof Error ? err.message : String(err);
}
