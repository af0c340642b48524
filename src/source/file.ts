import { promises as fs } from 'node:fs';
import { MeshctlError } from '../errors.js';

/** V8 cannot hold a string much larger than this; refuse early with a clear message instead of crashing. */
export const MAX_INPUT_BYTES = 512 * 1024 * 1024;

/** A file (or `-` for stdin) read whole, with its name for error messages. */
export interface InputText {
  name: string;
  text: string;
}

export async function readInput(file: string): Promise<InputText> {
  if (file === '-') return { name: 'stdin', text: await readStdin() };
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MeshctlError(`${file}: no such file`);
    if (code === 'EACCES') throw new MeshctlError(`${file}: permission denied`);
    throw new MeshctlError(`${file}: cannot read (${code ?? String(err)})`);
  }
  if (stat.isDirectory()) throw new MeshctlError(`${file}: is a directory, expected a file`);
  if (stat.size > MAX_INPUT_BYTES) {
    throw new MeshctlError(`${file}: too large to read (${mib(stat.size)} MiB; the limit is ${mib(MAX_INPUT_BYTES)} MiB)`);
  }
  let text: string;
  try {
    // decoding inside readFile keeps a 100 MB dump from living twice (Buffer + string), which costs a
    // full GC; invalid UTF-8 shows up as U+FFFD and only then is the file checked strictly
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new MeshctlError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (text.includes('\uFFFD')) text = decode(await fs.readFile(file), file);
  else if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.length === 0) throw new MeshctlError(`${file}: file is empty`);
  return { name: file, text };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_INPUT_BYTES) throw new MeshctlError(`stdin: too large to read (over ${mib(MAX_INPUT_BYTES)} MiB)`);
    chunks.push(chunk as Buffer);
  }
  return decode(Buffer.concat(chunks), 'stdin');
}

function decode(buf: Buffer, name: string): string {
  if (buf.length === 0) throw new MeshctlError(`${name}: file is empty`);
  try {
    // fatal: a non-UTF-8 file is reported, not silently turned into replacement characters
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(buf);
  } catch {
    throw new MeshctlError(`${name}: not UTF-8 text (binary file?)`);
  }
}

function mib(n: number): number {
  return Math.round(n / (1024 * 1024));
}
