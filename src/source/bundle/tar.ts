import { createReadStream } from 'node:fs';
import { createGunzip, gzipSync } from 'node:zlib';
import { type Header, extract } from 'tar-stream';
import { MeshctlError } from '../../errors.js';
import { LIMITS, normalName, unsafeName } from './format.js';

/**
 * Streaming reads of a tar.gz: bytes flow file → gunzip → tar-stream's parser, and only the entry asked
 * for is kept (and only up to its limit). Nothing is written to disk; a read that started at a member's
 * offset stops as soon as that member is read. Every header that goes by is checked: only regular files
 * with plain relative names and sane sizes; anything else (links, devices, `../`, absolute names, giant
 * sizes, a stream that inflates like a zip bomb) refuses the bundle with one line naming the member.
 */

/** What a bundle reader has done, for tests and the benchmark: nothing here may grow with the bundle. */
export interface ReadStats {
  /** Compressed bytes read from the file. */
  fileBytes: number;
  /** Bytes gunzip produced. */
  inflatedBytes: number;
  /** Entries whose headers went by. */
  entries: number;
}

export type Decision = 'take' | 'skip' | 'stop';

export interface FoundEntry {
  name: string;
  data: Buffer;
}

export interface WalkResult {
  /** The entry taken, if any. */
  entry?: FoundEntry;
  /** The name of the entry `decide` stopped at. */
  stoppedAt?: string;
}

/**
 * Walks the entries of the tar.gz `file` from byte `offset` (which must start a gzip member): `decide`
 * says for each entry whether to take it (the walk ends with it), skip it, or stop before it.
 * `limit` caps a taken entry's size. `label` names the bundle in errors.
 */
export function walkEntries(
  file: string,
  offset: number,
  label: string,
  decide: (name: string, header: Header) => Decision,
  limit: number,
  stats: ReadStats,
  /** The last byte to read (inclusive): the end of the member's own gzip member, when known. */
  end?: number,
  /** The member expected at `offset`, named in errors before its header is read. */
  expected?: string,
): Promise<WalkResult> {
  return new Promise<WalkResult>((resolve, reject) => {
    const input = createReadStream(file, { start: offset, end, highWaterMark: 256 * 1024 });
    const gunzip = createGunzip();
    const tar = extract();
    let current: string | undefined;
    let last: string | undefined;
    let started = 0;
    let inflated = 0;
    let settled = false;

    const finish = (err: Error | undefined, result?: WalkResult) => {
      if (settled) return;
      settled = true;
      input.destroy();
      gunzip.destroy();
      tar.destroy();
      if (err) reject(err);
      else resolve(result ?? {});
    };
    const where = () =>
      current ? `member ${current}` : last ? `after member ${last}` : expected ? `member ${expected}` : offset > 0 ? `at byte ${offset}` : 'at its start';

    input.on('data', (c) => {
      started += c.length;
      stats.fileBytes += c.length;
    });
    input.on('error', (err) => finish(new MeshctlError(`bundle ${label}: cannot read: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
    gunzip.on('data', (c: Buffer) => {
      inflated += c.length;
      stats.inflatedBytes += c.length;
      if (inflated > LIMITS.ratioAfter && inflated > LIMITS.ratio * Math.max(1, started)) {
        finish(
          new MeshctlError(
            `bundle ${label}: ${where()} inflates more than ${LIMITS.ratio} times (${mib(inflated)} MiB from ${mib(started)} MiB): a zip bomb? refusing to read on`,
          ),
        );
      }
    });
    gunzip.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(err.message)) {
        finish(new MeshctlError(`bundle ${label} is truncated: it ends ${current ? `inside member ${current}` : where()} (was it copied completely?)`));
      } else if (inflated === 0 && offset === 0) {
        finish(new MeshctlError(`${label}: not a gzip file (a bundle is a .tar.gz made by meshctl bug-report, or its unpacked directory)`));
      } else {
        finish(new MeshctlError(`bundle ${label} is damaged ${where()}: ${err.message}`));
      }
    });
    tar.on('error', (err: Error) => {
      if (/unexpected end of data/i.test(err.message)) {
        finish(new MeshctlError(`bundle ${label} is truncated: it ends ${current ? `inside member ${current}` : where()} (was it copied completely?)`));
      } else if (stats.entries === 0 && offset === 0) {
        finish(new MeshctlError(`${label}: a gzip file, but not a tar archive inside (${err.message.split('.')[0]})`));
      } else {
        finish(new MeshctlError(`bundle ${label} is damaged ${where()}: ${err.message.split('.')[0]}`));
      }
    });
    tar.on('finish', () => finish(undefined, {}));
    tar.on('entry', (header, stream, next) => {
      if (settled) return;
      stats.entries++;
      const name = normalName(header.name);
      const refused = refuse(header, name);
      if (refused) return finish(new MeshctlError(`bundle ${label}: member ${JSON.stringify(header.name)} ${refused}; refusing the bundle`));
      const decision = header.type === 'directory' ? 'skip' : decide(name, header);
      if (decision === 'stop') return finish(undefined, { stoppedAt: name });
      if (decision === 'skip') {
        current = name;
        stream.on('end', () => {
          last = current;
          current = undefined;
          next();
        });
        stream.resume();
        return;
      }
      if (header.size > limit) {
        return finish(new MeshctlError(`bundle ${label}: member ${name} is ${mib(header.size)} MiB, more than the ${mib(limit)} MiB it may be; refusing it`));
      }
      current = name;
      const chunks: Buffer[] = [];
      let got = 0;
      stream.on('data', (data) => {
        const c = data as Buffer;
        got += c.length;
        chunks.push(c);
      });
      stream.on('end', () => {
        if (got !== header.size) return finish(new MeshctlError(`bundle ${label} is truncated: member ${name} has ${got} of its ${header.size} bytes`));
        finish(undefined, { entry: { name, data: Buffer.concat(chunks) } });
      });
    });
    input.pipe(gunzip).pipe(tar);
  });
}

/** True when the file starts like a gzip stream (its two magic bytes). */
export function looksGzipped(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Why an entry makes the bundle unacceptable, or undefined. */
function refuse(header: Header, name: string): string | undefined {
  const type = header.type as string | null;
  if (type === 'symlink' || type === 'link') return `is a ${type === 'link' ? 'hard' : 'symbolic'} link (to ${JSON.stringify(header.linkname ?? '')}): a bundle holds regular files only`;
  if (type !== 'file' && type !== 'contiguous-file' && type !== 'directory') return `is a ${type ?? 'special'} entry: a bundle holds regular files only`;
  const bad = unsafeName(name);
  if (bad) return `has ${bad}`;
  if (header.size > LIMITS.member) return `declares ${mib(header.size)} MiB, more than any member may hold (${mib(LIMITS.member)} MiB)`;
  return undefined;
}

function mib(n: number): string {
  const v = n / 1048576;
  return v >= 10 ? v.toFixed(0) : v.toFixed(1);
}

/**
 * The locator's gzip member's length: a 512-byte tar header and its 200 bytes padded to 512, stored
 * (deflate level 0, whose output length depends only on the input's).
 */
export function locatorMemberBytes(): number {
  return gzipSync(Buffer.alloc(1024), { level: 0 }).length;
}
