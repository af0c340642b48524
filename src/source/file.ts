import { isUtf8 } from 'node:buffer';
import { promises as fs, readFileSync } from 'node:fs';
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
  return { name: file, text: decode(readWhole(file), file) };
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

/**
 * Read synchronously into a Buffer that nothing references once decoded, so the next scavenge frees
 * it: fs.promises.readFile's Buffer of a 200 MB dump lived on beside its text until a full GC, and
 * readFileSync(file, 'utf8') gives a string JSON.parse reads markedly slower.
 */
function readWhole(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new MeshctlError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

function decode(buf: Buffer, name: string): string {
  if (buf.length === 0) throw new MeshctlError(`${name}: file is empty`);
  // a non-UTF-8 file is reported, not silently turned into replacement characters
  if (!isUtf8(buf)) throw new MeshctlError(`${name}: not UTF-8 text (binary file?)`);
  const bom = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
  return buf.toString('utf8', bom ? 3 : 0);
}

function mib(n: number): number {
  return Math.round(n / (1024 * 1024));
}
