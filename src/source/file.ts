import { isUtf8 } from 'node:buffer';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
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
  const buf = readFileBytes(file);
  if (buf.length === 0) throw new MeshctlError(`${file}: file is empty`);
  return { name: file, text: decodeUtf8(buf, file) };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_INPUT_BYTES) throw new MeshctlError(`stdin: too large to read (over ${mib(MAX_INPUT_BYTES)} MiB)`);
    chunks.push(chunk as Buffer);
  }
  const buf = Buffer.concat(chunks);
  if (buf.length === 0) throw new MeshctlError('stdin: file is empty');
  return decodeUtf8(buf, 'stdin');
}

/**
 * A file's bytes, read synchronously with one open, one fstat and one read: a repository of a
 * thousand manifests costs several times more through promise-based reads, and a stat by path
 * before readFileSync would fstat twice. The Buffer is meant to be decoded and dropped at once, so
 * the next scavenge frees it (fs.promises.readFile's Buffer of a 200 MB dump lived on beside its text
 * until a full GC; readFileSync(file, 'utf8') gives a string JSON.parse reads markedly slower).
 * Missing, unreadable, directory and too large are MeshctlErrors naming the file.
 */
export function readFileBytes(file: string): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new MeshctlError(`${file}: is a directory, expected a file`);
    if (st.size > MAX_INPUT_BYTES) {
      throw new MeshctlError(`${file}: too large to read (${mib(st.size)} MiB; the limit is ${mib(MAX_INPUT_BYTES)} MiB)`);
    }
    // st.size is 0 for pipes and some special files: those are read to their end
    return st.isFile() && st.size > 0 ? readExactly(fd, st.size) : readFileSync(fd);
  } catch (err) {
    if (err instanceof MeshctlError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MeshctlError(`${file}: no such file`);
    if (code === 'EACCES') throw new MeshctlError(`${file}: permission denied`);
    if (code === 'EISDIR') throw new MeshctlError(`${file}: is a directory, expected a file`);
    throw new MeshctlError(`${file}: cannot read (${code ?? String(err)})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Reads `size` bytes (a file that shrank meanwhile gives what is there). */
function readExactly(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buf, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return got === size ? buf : buf.subarray(0, got);
}

/** UTF-8 text, a byte-order mark dropped; a non-UTF-8 file is reported, not turned into replacement characters. */
export function decodeUtf8(buf: Buffer, name: string): string {
  if (!isUtf8(buf)) throw new MeshctlError(`${name}: not UTF-8 text (binary file?)`);
  const bom = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
  return buf.toString('utf8', bom ? 3 : 0);
}

function mib(n: number): number {
  return Math.round(n / (1024 * 1024));
}
