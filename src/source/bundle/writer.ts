import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCb, gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { MeshctlError } from '../../errors.js';
import { type BundleIndex, FORMAT, FORMAT_VERSION, INDEX, LOCATOR, type MemberInfo } from './format.js';

const gzip = promisify(gzipCb);

/** The locator's fixed length: rewritten in place at the end, it must not change size. */
const LOCATOR_BYTES = 200;

/**
 * Writes a bundle tar.gz atomically: members go to a hidden temporary file beside the output (created
 * exclusively, mode 600), each compressed as its own gzip member; `finish` appends the index, writes
 * the locator's final offset over its placeholder and renames the file into place. `abort` removes it.
 * Nothing else is ever written. Members are appended one at a time, in the order `add` is called.
 */
export class BundleWriter {
  readonly members: Record<string, MemberInfo> = {};
  /** Bytes in the file so far. */
  bytes = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private done = false;
  private locatorBytes = 0;

  private constructor(
    readonly output: string,
    private readonly temp: string,
    private readonly handle: fs.FileHandle,
    private readonly mtime: Date,
  ) {}

  static async create(output: string, now = new Date()): Promise<BundleWriter> {
    const dir = path.dirname(path.resolve(output));
    const st = await fs.stat(output).catch(() => undefined);
    if (st?.isDirectory()) throw new MeshctlError(`-o ${output}: is a directory; give a file name such as bundle.tar.gz`);
    const temp = path.join(dir, `.${path.basename(output)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(temp, 'wx', 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new MeshctlError(`-o ${output}: cannot write in ${dir} (${code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : code ?? String(err)})`);
    }
    const w = new BundleWriter(output, temp, handle, now);
    const locator = await locatorMember(w.mtime, 0);
    w.locatorBytes = locator.length;
    await w.append(locator);
    return w;
  }

  /**
   * Adds a member. With `maxBytes`, a member that would take the file past it (keeping `reserve` bytes
   * for the index) is not written and `false` is returned.
   */
  add(name: string, data: Buffer | string, maxBytes?: number, reserve = 0, level = 6): Promise<boolean> {
    const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const run = async (): Promise<boolean> => {
      if (this.done) throw new Error(`bundle writer: add(${name}) after finish`);
      if (Object.prototype.hasOwnProperty.call(this.members, name)) throw new Error(`bundle writer: member ${name} added twice`);
      const compressed = await gzip(await tarEntry(name, body, this.mtime, false), { level });
      if (maxBytes !== undefined && this.bytes + compressed.length + reserve > maxBytes) return false;
      const offset = this.bytes;
      await this.append(compressed);
      this.members[name] = { size: body.length, sha256: createHash('sha256').update(body).digest('hex'), offset };
      return true;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Appends the index (with every member's offset) and the end of the archive, then moves the file into place. */
  async finish(index: Omit<BundleIndex, 'members'>): Promise<void> {
    await this.queue;
    this.done = true;
    try {
      const offset = this.bytes;
      const full: BundleIndex = { ...index, members: this.members };
      await this.append(await gzip(await tarEntry(INDEX, Buffer.from(JSON.stringify(full, null, 1) + '\n'), this.mtime, true)));
      const locator = await locatorMember(this.mtime, offset);
      if (locator.length !== this.locatorBytes) throw new Error('bundle locator changed size');
      await this.handle.write(locator, 0, locator.length, 0);
      await this.handle.sync();
      await this.handle.close();
      await fs.rename(this.temp, this.output);
    } catch (err) {
      await this.abort();
      if (err instanceof MeshctlError) throw err;
      throw new MeshctlError(`-o ${this.output}: cannot write the bundle (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }

  /** Removes the temporary file; nothing is left behind. Safe to call twice. */
  async abort(): Promise<void> {
    this.done = true;
    await this.handle.close().catch(() => undefined);
    await fs.rm(this.temp, { force: true });
  }

  private async append(buf: Buffer): Promise<void> {
    let at = 0;
    while (at < buf.length) {
      const { bytesWritten } = await this.handle.write(buf, at, buf.length - at, this.bytes + at);
      at += bytesWritten;
    }
    this.bytes += buf.length;
  }
}

/**
 * The first member: a small JSON giving the index's byte offset, padded to a fixed length and stored
 * uncompressed (deflate level 0), so the final one has exactly the placeholder's size.
 */
async function locatorMember(mtime: Date, indexOffset: number): Promise<Buffer> {
  const json = JSON.stringify({ format: FORMAT, version: FORMAT_VERSION, index: INDEX, indexOffset });
  if (json.length > LOCATOR_BYTES - 1) throw new Error('bundle locator too long');
  const text = json.slice(0, -1) + ' '.repeat(LOCATOR_BYTES - 1 - json.length) + '}';
  return gzipSync(await tarEntry(LOCATOR, Buffer.from(text), mtime, false), { level: 0 });
}

/** One tar entry (tar-stream's encoding, with PAX headers for long names), without the end-of-archive blocks unless `last`. */
async function tarEntry(name: string, data: Buffer, mtime: Date, last: boolean): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    p.on('data', (c) => chunks.push(c as Buffer));
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  p.entry({ name, size: data.length, mode: 0o644, mtime, type: 'file' }, data);
  p.finalize();
  await ended;
  const all = Buffer.concat(chunks);
  return last ? all : all.subarray(0, all.length - 1024);
}

