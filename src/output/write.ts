import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MeshctlError, describeError } from '../errors.js';

/** Writes to stdout; a closed pipe (`meshctl ... | head`) ends the process quietly instead of crashing. */
export function writeStdout(text: string): void {
  if (text === '') return;
  process.stdout.write(text);
}

let epipeHandled = false;
export function handleClosedStdout(): void {
  if (epipeHandled) return;
  epipeHandled = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

/** Writes a whole file or nothing: a temp file beside it, then rename, so a failure leaves the old file intact. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await fs.writeFile(tmp, text, { mode: 0o644 });
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new MeshctlError(`cannot write ${file}: ${describeError(err)}`);
  }
}
