import { promises as fs, readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { describeError } from '../errors.js';
import { decodeUtf8, readFileBytes, readInput } from '../source/file.js';
import { locateField, type FieldPath } from './locate.js';
import { splitApiVersion, type LoadProblem, type LoadResult, type Origin, type Resource } from './types.js';

export interface LoadOptions {
  /** Walk directories recursively (`-R`); otherwise only the files directly inside a directory are read. */
  recursive?: boolean;
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i;
const GLOB_CHARS = /[*?[\]{}]/;

/**
 * Loads Kubernetes objects from files, directories, globs and `-` (stdin). Never throws for bad
 * input: every unreadable file or broken document becomes a LoadProblem and the rest still loads,
 * so one bad document cannot hide what is wrong in the others.
 */
export async function loadResources(args: readonly string[], options: LoadOptions = {}): Promise<LoadResult> {
  const result: LoadResult = { resources: [], problems: [] };
  const files = new Set<string>();
  for (const arg of args) {
    for (const f of await expandArg(arg, options, result.problems)) files.add(f);
  }
  for (const file of files) {
    let text: string;
    try {
      text = file === '-' ? (await readInput(file)).text : readManifest(file);
    } catch (err) {
      result.problems.push({ file: file === '-' ? 'stdin' : file, message: stripName(describeError(err), file) });
      continue;
    }
    const parsed = parseResources(text, file === '-' ? 'stdin' : file);
    result.resources.push(...parsed.resources);
    result.problems.push(...parsed.problems);
  }
  return result;
}

/** A manifest's text; an empty manifest (a placeholder in a repository) holds no objects and is not an error. */
function readManifest(file: string): string {
  const buf = readFileBytes(file);
  return buf.length === 0 ? '' : decodeUtf8(buf, file);
}

async function expandArg(arg: string, options: LoadOptions, problems: LoadProblem[]): Promise<string[]> {
  if (arg === '-') return ['-'];
  let stat;
  try {
    stat = await fs.stat(arg);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) {
    const before = problems.length;
    const found = manifestsIn(arg, options.recursive === true, problems);
    found.sort();
    if (found.length === 0 && problems.length === before) problems.push({ file: arg, message: `no .yaml, .yml or .json files in this directory${options.recursive ? '' : ' (use -R to look in subdirectories)'}` });
    return found.map((f) => path.join(arg, f));
  }
  if (stat) return [arg];
  if (GLOB_CHARS.test(arg)) {
    const { glob } = await import('tinyglobby');
    const found = (await glob([arg], { onlyFiles: true, expandDirectories: false })).filter((f) => MANIFEST_EXT.test(f) || !arg.includes('*'));
    found.sort();
    if (found.length === 0) problems.push({ file: arg, message: 'no files match this pattern' });
    return found;
  }
  problems.push({ file: arg, message: 'no such file or directory' });
  return [];
}

/**
 * The manifests in a directory, as paths relative to it: *.yaml, *.yml, *.json (any case), skipping
 * hidden files and directories, following symbolic links (each real directory once, so a link loop
 * ends). A plain walk: a glob library costs more to load than this takes to run. A directory it cannot
 * read and a manifest-named link to nothing are problems: they may hide manifests the user meant.
 */
function manifestsIn(root: string, recursive: boolean, problems: LoadProblem[]): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const walk = (dir: string, rel: string): void => {
    let real: string;
    let entries: Dirent[];
    try {
      real = realpathSync(dir);
      if (seen.has(real)) return;
      seen.add(real);
      // by name: the problems (and, before the final sort, the files) come in a stable order
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push({ file: dir, message: `cannot read this directory (${code === 'EACCES' ? 'permission denied' : code ?? describeError(err)})` });
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const relPath = rel === '' ? e.name : `${rel}/${e.name}`;
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        try {
          const target = statSync(path.join(dir, e.name));
          isDir = target.isDirectory();
          isFile = target.isFile();
        } catch (err) {
          if (MANIFEST_EXT.test(e.name)) problems.push({ file: path.join(dir, e.name), message: brokenLink(err) });
          continue;
        }
      }
      if (isDir) {
        if (recursive) walk(path.join(dir, e.name), relPath);
      } else if (isFile && MANIFEST_EXT.test(e.name)) {
        found.push(relPath);
      }
    }
  };
  walk(root, '');
  return found;
}

function brokenLink(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'a symbolic link to nothing (its target does not exist)';
  if (code === 'ELOOP') return 'a symbolic link that loops back on itself';
  if (code === 'EACCES') return 'a symbolic link to a place meshctl may not read (permission denied)';
  return `a symbolic link meshctl cannot follow (${code ?? describeError(err)})`;
}

function stripName(message: string, file: string): string {
  const prefix = `${file === '-' ? 'stdin' : file}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

/**
 * YAML's core schema plus merge keys (`<<: *defaults`), as Kubernetes reads manifests: an unquoted
 * date or time stays the string the API server would see, not a JavaScript Date.
 */
// js-yaml 4 exports its built-in types as `types`; @types/js-yaml does not declare it
const MANIFEST_SCHEMA = yaml.CORE_SCHEMA.extend({ implicit: [(yaml as unknown as { types: { merge: yaml.Type } }).types.merge] });

/** Nodes a document may expand to through YAML aliases; far above any real manifest. */
const MAX_NODES = 1_000_000;

/** Parses the text of one file: multi-document YAML, JSON, and `kind: List` (or `*List`) objects. */
export function parseResources(text: string, file: string): LoadResult {
  const out: LoadResult = { resources: [], problems: [] };
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const value = JSON.parse(text) as unknown;
      addValue(value, { file, line: lineOfOffset(text, text.length - trimmed.length) + 1, doc: 0, text, textLine: 1 }, out);
      return out;
    } catch (err) {
      // YAML flow style also starts with '{': let the YAML parser have a go before blaming the JSON
      const yamlTry = parseYamlDocuments(text, file);
      if (yamlTry.problems.length === 0) return yamlTry;
      out.problems.push({ file, message: `invalid JSON: ${describeError(err)}` });
      return out;
    }
  }
  return parseYamlDocuments(text, file);
}

function parseYamlDocuments(text: string, file: string): LoadResult {
  const out: LoadResult = { resources: [], problems: [] };
  let doc = 0;
  for (const chunk of splitDocuments(text)) {
    const docIndex = doc++;
    const first = firstContentLine(chunk.text);
    if (first < 0) continue; // empty document or only comments
    let value: unknown;
    try {
      value = yaml.load(chunk.text, { filename: file, schema: MANIFEST_SCHEMA });
    } catch (err) {
      out.problems.push(yamlProblem(err, file, chunk.line));
      continue;
    }
    if (value === null || value === undefined) continue;
    if (chunk.text.includes('&') && tooBig(value)) {
      out.problems.push({ file, line: chunk.line + first, message: `YAML aliases expand to more than ${MAX_NODES} nodes; refusing to read this document` });
      continue;
    }
    addValue(value, { file, line: chunk.line + first, doc: docIndex, text: chunk.text, textLine: chunk.line }, out);
  }
  return out;
}

/** A document that is a list of things that are not Kubernetes objects gets a few lines, not thousands. */
const MAX_ITEM_PROBLEMS = 3;

function addItems(items: unknown[], origin: Origin, at: (i: number) => FieldPath, out: LoadResult): void {
  const problems: LoadProblem[] = [];
  items.forEach((item, i) => addItem(item, origin, at(i), i, { resources: out.resources, problems }));
  if (problems.length > MAX_ITEM_PROBLEMS) {
    const rest = problems.length - (MAX_ITEM_PROBLEMS - 1);
    problems.splice(MAX_ITEM_PROBLEMS - 1, problems.length, { file: origin.file, line: origin.line, message: `${rest} more list items are not Kubernetes objects` });
  }
  out.problems.push(...problems);
}

function addValue(value: unknown, origin: Origin, out: LoadResult): void {
  if (Array.isArray(value)) {
    addItems(value, origin, (i) => [i], out);
    return;
  }
  if (!isObject(value)) {
    out.problems.push({ file: origin.file, line: origin.line, message: 'not a Kubernetes object (expected a mapping with apiVersion and kind)' });
    return;
  }
  const kind = value.kind;
  if (typeof kind === 'string' && (kind === 'List' || kind.endsWith('List')) && Array.isArray(value.items)) {
    addItems(value.items, origin, (i) => ['items', i], out);
    return;
  }
  const r = toResource(value, origin);
  if (typeof r === 'string') out.problems.push({ file: origin.file, line: origin.line, message: r });
  else out.resources.push(r);
}

function addItem(item: unknown, parent: Origin, at: FieldPath, index: number, out: LoadResult): void {
  const rel = parent.text !== undefined ? locateField(parent.text, at) : undefined;
  const line = rel !== undefined ? (parent.textLine ?? 1) + rel : parent.line;
  const origin: Origin = { ...parent, line, item: index, itemPath: [...at] };
  if (!isObject(item)) {
    out.problems.push({ file: parent.file, line, message: `list item ${index} is not a Kubernetes object` });
    return;
  }
  const r = toResource(item, origin);
  if (typeof r === 'string') out.problems.push({ file: parent.file, line, message: `list item ${index}: ${r}` });
  else out.resources.push(r);
}

/** A Resource, or why the object is not one. */
export function toResource(obj: Record<string, unknown>, origin?: Origin): Resource | string {
  const { apiVersion, kind } = obj;
  if (typeof kind !== 'string' || kind === '') return 'object has no kind';
  if (typeof apiVersion !== 'string' || apiVersion === '') return `${kind} has no apiVersion`;
  const metadata = isObject(obj.metadata) ? (obj.metadata as Resource['metadata']) : {};
  const name = typeof metadata.name === 'string' ? metadata.name : typeof metadata.generateName === 'string' ? metadata.generateName : '';
  if (name === '') return `${kind} has no metadata.name`;
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : '';
  const { group, version } = splitApiVersion(apiVersion);
  return { apiVersion, kind, group, version, name, namespace, metadata, object: obj, origin };
}

/**
 * 1-based file line of a field of a resource (e.g. `['spec', 'hosts', 0]`), falling back to the
 * line the resource starts on; undefined for resources that did not come from a file.
 */
export function fieldLine(r: Resource, field: FieldPath): number | undefined {
  const o = r.origin;
  if (!o) return undefined;
  if (!o.text || field.length === 0) return o.line;
  const full = o.itemPath ? [...o.itemPath, ...field] : field;
  const rel = locateField(o.text, full);
  return rel === undefined ? o.line : (o.textLine ?? 1) + rel;
}

interface Chunk {
  text: string;
  /** 1-based line of the chunk's first line in the file. */
  line: number;
}

/**
 * Splits a YAML stream on `---` / `...` markers, keeping where each document starts. What follows
 * `---` on its line (`--- # comment`, `--- {inline: document}`) belongs to the next document.
 */
function splitDocuments(text: string): Chunk[] {
  // a scan of line starts, not a multiline regex: ~2x faster over a repository, and most lines are
  // rejected on their first character
  const chunks: Chunk[] = [];
  let start = 0;
  let chunkLine = 1;
  for (let pos = 0, line = 1; pos < text.length; line++) {
    const nl = text.indexOf('\n', pos);
    const marker = markerAt(text, pos);
    if (marker !== undefined) {
      chunks.push({ text: text.slice(start, pos), line: chunkLine });
      if (marker === '---') {
        start = pos + 3;
        chunkLine = line;
      } else {
        // after `...` only a comment may follow on the line
        start = nl < 0 ? text.length : nl + 1;
        chunkLine = line + 1;
      }
    }
    if (nl < 0) break;
    pos = nl + 1;
  }
  chunks.push({ text: text.slice(start), line: chunkLine });
  return chunks;
}

/** `---` or `...` at `pos` (a line start) followed by a blank or the line's end, else undefined. */
function markerAt(text: string, pos: number): '---' | '...' | undefined {
  const c = text.charCodeAt(pos);
  if ((c !== 0x2d && c !== 0x2e) || text.charCodeAt(pos + 1) !== c || text.charCodeAt(pos + 2) !== c) return undefined;
  if (pos + 3 < text.length) {
    const after = text.charCodeAt(pos + 3);
    if (after !== 0x20 && after !== 0x09 && after !== 0x0d && after !== 0x0a) return undefined;
  }
  return c === 0x2d ? '---' : '...';
}

function firstContentLine(text: string): number {
  let n = 0;
  let pos = 0;
  while (pos <= text.length) {
    const nl = text.indexOf('\n', pos);
    const line = text.slice(pos, nl < 0 ? text.length : nl).trim();
    if (line !== '' && !line.startsWith('#') && !line.startsWith('%')) return n;
    if (nl < 0) break;
    pos = nl + 1;
    n++;
  }
  return -1;
}

function yamlProblem(err: unknown, file: string, chunkLine: number): LoadProblem {
  if (err instanceof yaml.YAMLException) {
    const mark = err.mark as { line?: number; column?: number } | undefined;
    if (mark && mark.line !== undefined) {
      return { file, line: chunkLine + mark.line, message: `invalid YAML: ${err.reason} (column ${(mark.column ?? 0) + 1})` };
    }
    return { file, line: chunkLine, message: `invalid YAML: ${err.reason}` };
  }
  return { file, line: chunkLine, message: `invalid YAML: ${describeError(err)}` };
}

function tooBig(doc: unknown): boolean {
  let budget = MAX_NODES;
  const stack: unknown[] = [doc];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (--budget < 0) return true;
    for (const v of Object.values(node as Record<string, unknown>)) if (v !== null && typeof v === 'object') stack.push(v);
  }
  return false;
}

function lineOfOffset(text: string, offset: number): number {
  let n = 0;
  for (let k = 0; k < offset; k++) if (text.charCodeAt(k) === 10) n++;
  return n;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
