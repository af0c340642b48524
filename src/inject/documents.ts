import yaml from 'js-yaml';
import { MeshctlError } from '../errors.js';
import type { InputText } from '../source/file.js';
import { parseDocument } from '../source/parse.js';
import { type Obj, InjectError, isObj } from './config.js';

/** One document of a (multi-document) YAML text, with its original text kept verbatim. */
export interface Chunk {
  /** The `---` line that opened it ('' for the first document when it has none). */
  separator: string;
  body: string;
  /** 1-based line of the body's first line in the file. */
  line: number;
  /** 1-based position among the file's documents. */
  index: number;
  data: unknown;
  /** Set when the document was changed: what to print instead of `body`. */
  replacement?: string;
}

const SEPARATOR = /^---(?:[ \t].*)?$/;

/** Splits a YAML stream at its `---` lines and parses each part on its own, so errors name the document. */
export function splitDocuments(input: InputText): { chunks: Chunk[]; json: boolean } {
  const first = input.text.trimStart()[0];
  if (first === '{' || first === '[') {
    const data = parseDocument(input);
    return { chunks: [{ separator: '', body: input.text, line: 1, index: 1, data }], json: true };
  }
  const lines = input.text.split(/(?<=\n)/);
  const parts: { separator: string; lines: string[]; line: number }[] = [{ separator: '', lines: [], line: 1 }];
  lines.forEach((l, i) => {
    if (SEPARATOR.test(l.replace(/\r?\n$/, ''))) parts.push({ separator: l, lines: [], line: i + 2 });
    else parts[parts.length - 1].lines.push(l);
  });
  const chunks: Chunk[] = [];
  let index = 0;
  for (const p of parts) {
    const body = p.lines.join('');
    const blank = body.replace(/^\s*#.*$/gm, '').trim() === '';
    if (p.separator === '' && blank && body === '') continue; // file starting with '---'
    index++;
    let data: unknown = null;
    if (!blank) {
      try {
        data = parseDocument({ name: input.name, text: body });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const reason = message.startsWith(input.name + ': ') ? message.slice(input.name.length + 2) : message;
        // the parser counts lines from the document's start; the user counts them in the file
        const inFile = reason.replace(/\bline (\d+)/, (_m, n: string) => `line ${Number(n) + p.line - 1}`);
        throw new MeshctlError(`${input.name}: document ${index}: ${inFile}`);
      }
    }
    chunks.push({ separator: p.separator, body, line: p.line, index, data });
  }
  return { chunks, json: false };
}

const COMMENT_OR_BLANK = /^\s*(#.*)?\r?\n?$/;

/** Comment lines before a document's content survive re-serialisation. */
function leadingComments(body: string): string {
  const out: string[] = [];
  for (const l of body.split(/(?<=\n)/)) {
    if (COMMENT_OR_BLANK.test(l)) out.push(l);
    else break;
  }
  return out.join('');
}

/** And so do comment lines after it (blank lines only between comments). */
function trailingComments(body: string): string {
  const lines = body.split(/(?<=\n)/);
  const out: string[] = [];
  for (let i = lines.length - 1; i >= 0 && COMMENT_OR_BLANK.test(lines[i]); i--) out.unshift(lines[i]);
  if (out.length === lines.length) return '';
  const text = out.join('');
  if (!/#/.test(text)) return '';
  return text.endsWith('\n') ? text.replace(/^(\s*\n)+/, '') : text.replace(/^(\s*\n)+/, '') + '\n';
}

/**
 * Numbers with underscores (`1_000`) are plain strings to js-yaml (YAML 1.2) but integers to the
 * YAML 1.1 parser kubectl uses, so such strings must be written quoted; js-yaml has no switch for it.
 */
const YAML11_NUMBER = /^[-+]?(0[xob])?[0-9a-fA-F_.]*_[0-9a-fA-F_.]*([eE][-+]?[0-9]+)?$/;

export function dumpYaml(data: unknown): string {
  const quoted: string[] = [];
  const mark = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (!YAML11_NUMBER.test(v) || !/\d/.test(v)) return v;
      quoted.push(v);
      return `\u0000meshctl-quote-${quoted.length - 1}`;
    }
    if (Array.isArray(v)) return v.map(mark);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, val] of Object.entries(v)) out[k] = mark(val);
      return out;
    }
    return v;
  };
  const text = yaml.dump(mark(data), { noRefs: true, lineWidth: -1, sortKeys: false });
  return text.replace(/"\\0meshctl-quote-(\d+)"/g, (_m, i: string) => `'${quoted[Number(i)]}'`);
}


/** Puts the file back together: untouched documents byte for byte, changed ones re-serialised. */
export function joinDocuments(chunks: Chunk[], json: boolean): string {
  if (json) {
    const c = chunks[0];
    return c.replacement !== undefined ? JSON.stringify(c.data, null, 2) + '\n' : c.body;
  }
  // pieces joined once at the end: growing one string and inspecting it each time is quadratic
  const pieces: string[] = [];
  let last = ''; // the last character written so far ('' while nothing is)
  chunks.forEach((c, i) => {
    let text = c.replacement !== undefined ? leadingComments(c.body) + c.replacement + trailingComments(c.body) : c.body;
    if (last !== '' && last !== '\n') {
      pieces.push('\n');
      last = '\n';
    }
    const sep = c.separator || (last !== '' ? '---\n' : '');
    if (text !== '' && !text.endsWith('\n') && i < chunks.length - 1) text += '\n';
    const piece = sep + text;
    pieces.push(piece);
    if (piece !== '') last = piece[piece.length - 1];
  });
  return pieces.join('');
}

/** Names a document for errors and notes: `deploy.yaml: document 2 (Deployment "default/web")`. */
export function docLabel(file: string, chunk: Chunk, what: string): string {
  return `${file}: document ${chunk.index}${what ? ` (${what})` : ''}`;
}

export function isObjDoc(v: unknown): v is Obj {
  return isObj(v);
}

export { InjectError };
