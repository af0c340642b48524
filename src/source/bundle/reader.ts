import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { DamagedBundleError, MeshctlError } from '../../errors.js';
import { decodeUtf8, type InputText, readFileBytes } from '../file.js';
import { type BundleIndex, FORMAT, FORMAT_VERSION, INDEX, LIMITS, LOCATOR, type MemberInfo, unsafeName } from './format.js';
import { type ReadStats, locatorMemberBytes, looksGzipped, walkEntries } from './tar.js';

/**
 * Reads a bug-report bundle (a tar.gz made by meshctl bug-report, or a directory holding the same files)
 * without unpacking it and without reading it whole: opening reads the locator and the index; each
 * member is then read on its own, from its offset when the index gives one (a bundle repacked by other
 * tools is scanned from the start instead). Every member read is checked against its size and SHA-256.
 */
export interface BundleReader {
  /** The path as given, for messages. */
  readonly label: string;
  readonly form: 'archive' | 'directory';
  readonly index: BundleIndex;
  readonly stats: ReadStats;
  has(member: string): boolean;
  /** A member's bytes, verified. */
  read(member: string): Promise<Buffer>;
  /** A member as UTF-8 text, named `bundle.tar.gz:member` in messages. */
  readText(member: string): Promise<InputText>;
}

export async function openBundle(file: string): Promise<BundleReader> {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MeshctlError(`bundle ${file}: no such file or directory`);
    if (code === 'EACCES') throw new MeshctlError(`bundle ${file}: permission denied`);
    throw new MeshctlError(`bundle ${file}: cannot read (${code ?? String(err)})`);
  }
  const stats: ReadStats = { fileBytes: 0, inflatedBytes: 0, entries: 0 };
  if (st.isDirectory()) return openDirectory(file, stats);
  if (!st.isFile()) throw new MeshctlError(`bundle ${file}: not a file or directory`);
  return openArchive(file, st.size, stats);
}

async function openArchive(file: string, size: number, stats: ReadStats): Promise<BundleReader> {
  if (size === 0) throw new MeshctlError(`bundle ${file}: file is empty`);
  let index: BundleIndex;
  const head = Buffer.alloc(2);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 2, 0);
  } finally {
    closeSync(fd);
  }
  if (!looksGzipped(head)) throw new MeshctlError(`${file}: not a gzip file (a bundle is a .tar.gz made by meshctl bug-report, or its unpacked directory)`);
  // the locator, first, says where the index starts; without it (repacked by tar), the index is scanned for.
  // Only the locator's own gzip member is read: what follows may be anything.
  const first = await walkEntries(file, 0, file, (name) => (name === LOCATOR ? 'take' : 'stop'), LIMITS.locator, stats, locatorMemberBytes() - 1).catch(
    () => ({ entry: undefined }),
  );
  let seekable = false;
  let ends = new Map<number, number>();
  if (first.entry?.name === LOCATOR) {
    const offset = parseLocator(first.entry.data, file);
    if (offset >= size) {
      throw new MeshctlError(`bundle ${file} is truncated: its index starts at byte ${offset}, past the end of the file (${size} bytes)`);
    }
    const at = await walkEntries(file, offset, file, (name) => (name === INDEX ? 'take' : 'stop'), LIMITS.index, stats);
    if (!at.entry) throw new MeshctlError(`bundle ${file} is damaged: no ${INDEX} at byte ${offset}, where its locator says it starts`);
    index = parseIndex(at.entry.data, `${file}:${INDEX}`);
    seekable = true;
    // each member's gzip member ends where the next one starts (the last one where the index starts)
    const starts = [...Object.values(index.members).map((m) => m.offset).filter((o): o is number => o !== undefined), offset].sort((a, b) => a - b);
    ends = new Map(starts.slice(0, -1).map((s, i) => [s, starts[i + 1] - 1]));
  } else {
    const found = await walkEntries(file, 0, file, (name) => (name === INDEX ? 'take' : 'skip'), LIMITS.index, stats);
    if (!found.entry) {
      throw new MeshctlError(`${file}: not a meshctl bundle (no ${INDEX}; bundles are made by meshctl bug-report)`);
    }
    index = parseIndex(found.entry.data, `${file}:${INDEX}`);
  }

  const read = async (member: string): Promise<Buffer> => {
    const info = memberInfo(index, member, file);
    let data: Buffer | undefined;
    if (seekable && info.offset !== undefined) {
      if (info.offset >= size) throw new MeshctlError(`bundle ${file} is truncated: member ${member} would start at byte ${info.offset}, past its end`);
      const r = await walkEntries(file, info.offset, file, (name) => (name === member ? 'take' : 'stop'), LIMITS.member, stats, ends.get(info.offset), member);
      if (!r.entry) {
        throw new MeshctlError(`bundle ${file} is damaged: member ${member} is not at byte ${info.offset}, where its index says it is${r.stoppedAt ? ` (${r.stoppedAt} is)` : ''}`);
      }
      data = r.entry.data;
    } else {
      const r = await walkEntries(file, 0, file, (name) => (name === member ? 'take' : 'skip'), LIMITS.member, stats);
      if (!r.entry) throw new MeshctlError(`bundle ${file} is damaged: its index lists member ${member}, which is not in the archive`);
      data = r.entry.data;
    }
    verify(data, info, member, file);
    return data;
  };
  return reader(file, 'archive', index, stats, read);
}

function openDirectory(dir: string, stats: ReadStats): BundleReader {
  const root = realpathSync(dir);
  const readFile = (member: string, limit: number): Buffer => {
    const full = path.join(root, ...member.split('/'));
    let st;
    try {
      st = lstatSync(full);
    } catch {
      throw new MeshctlError(`bundle ${dir} is incomplete: member ${member} is missing`);
    }
    if (st.isSymbolicLink()) throw new MeshctlError(`bundle ${dir}: member ${member} is a symbolic link; a bundle holds regular files only; refusing it`);
    if (!st.isFile()) throw new MeshctlError(`bundle ${dir}: member ${member} is not a regular file; refusing it`);
    // a linked parent directory could lead outside the bundle
    const real = realpathSync(full);
    if (!real.startsWith(root + path.sep)) throw new MeshctlError(`bundle ${dir}: member ${member} resolves outside the bundle directory; refusing it`);
    if (st.size > limit) throw new MeshctlError(`bundle ${dir}: member ${member} is ${Math.round(st.size / 1048576)} MiB, more than the ${Math.round(limit / 1048576)} MiB it may be; refusing it`);
    const data = readFileBytes(full);
    stats.fileBytes += data.length;
    stats.entries++;
    return data;
  };
  let indexData: Buffer;
  try {
    indexData = readFile(INDEX, LIMITS.index);
  } catch (err) {
    if (err instanceof MeshctlError && /is missing$/.test(err.message)) {
      throw new MeshctlError(`${dir}: not a meshctl bundle directory (no ${INDEX}; bundles are made by meshctl bug-report)`);
    }
    throw err;
  }
  const index = parseIndex(indexData, path.join(dir, INDEX));
  return reader(dir, 'directory', index, stats, async (member) => {
    const info = memberInfo(index, member, dir);
    const data = readFile(member, LIMITS.member);
    verify(data, info, member, dir);
    return data;
  });
}

function reader(label: string, form: BundleReader['form'], index: BundleIndex, stats: ReadStats, read: (m: string) => Promise<Buffer>): BundleReader {
  return {
    label,
    form,
    index,
    stats,
    has: (member) => Object.prototype.hasOwnProperty.call(index.members, member),
    read: (member) => readMember(read, member),
    async readText(member) {
      const name = `${label}:${member}`;
      const data = await readMember(read, member);
      if (data.length === 0) return { name, text: '' };
      return { name, text: decodeUtf8(data, name) };
    },
  };
}

/** A member's read: any failure is the bundle's damage, which callers never take for a missing answer. */
async function readMember(read: (m: string) => Promise<Buffer>, member: string): Promise<Buffer> {
  try {
    return await read(member);
  } catch (err) {
    if (err instanceof MeshctlError && !(err instanceof DamagedBundleError)) throw new DamagedBundleError(err.message);
    throw err;
  }
}

function memberInfo(index: BundleIndex, member: string, label: string): MemberInfo {
  if (!Object.prototype.hasOwnProperty.call(index.members, member)) throw new MeshctlError(`bundle ${label} has no member ${member}`);
  return index.members[member];
}

function verify(data: Buffer, info: MemberInfo, member: string, label: string): void {
  if (data.length !== info.size) {
    throw new MeshctlError(`bundle ${label} is damaged: member ${member} has ${data.length} bytes, its index says ${info.size}`);
  }
  const sum = createHash('sha256').update(data).digest('hex');
  if (sum !== info.sha256) throw new MeshctlError(`bundle ${label} is damaged: member ${member} does not match its SHA-256 in the index`);
}

function parseLocator(data: Buffer, label: string): number {
  let doc: { format?: unknown; indexOffset?: unknown };
  try {
    doc = JSON.parse(data.toString('utf8')) as typeof doc;
  } catch {
    throw new MeshctlError(`bundle ${label} is damaged: member ${LOCATOR} is not JSON`);
  }
  if (doc.format !== FORMAT || typeof doc.indexOffset !== 'number' || !Number.isSafeInteger(doc.indexOffset) || doc.indexOffset <= 0) {
    throw new MeshctlError(`bundle ${label} is damaged: member ${LOCATOR} does not give the index's offset`);
  }
  return doc.indexOffset;
}

/** The index, checked enough that nothing later trusts a hostile one: names, sizes, offsets. */
export function parseIndex(data: Buffer, name: string): BundleIndex {
  let doc: BundleIndex;
  try {
    doc = JSON.parse(decodeUtf8(data, name)) as BundleIndex;
  } catch (err) {
    if (err instanceof MeshctlError) throw err;
    throw new MeshctlError(`${name}: not valid JSON (the bundle is damaged)`);
  }
  if (!doc || typeof doc !== 'object' || doc.format !== FORMAT) throw new MeshctlError(`${name}: not a meshctl bundle index`);
  if (typeof doc.version !== 'number' || doc.version > FORMAT_VERSION) {
    throw new MeshctlError(`${name}: bundle format version ${String(doc.version)} is newer than this meshctl reads (${FORMAT_VERSION}); upgrade meshctl`);
  }
  if (!doc.members || typeof doc.members !== 'object' || !Array.isArray(doc.calls) || !Array.isArray(doc.resources) || !doc.cluster) {
    throw new MeshctlError(`${name}: the index lacks members, calls, resources or cluster (the bundle is damaged)`);
  }
  for (const [member, info] of Object.entries(doc.members)) {
    const bad = unsafeName(member);
    if (bad) throw new MeshctlError(`${name}: member ${JSON.stringify(member)} has ${bad}; refusing the bundle`);
    if (!info || !Number.isSafeInteger(info.size) || info.size < 0 || typeof info.sha256 !== 'string') {
      throw new MeshctlError(`${name}: member ${member} has no valid size and SHA-256 (the bundle is damaged)`);
    }
    if (info.offset !== undefined && (!Number.isSafeInteger(info.offset) || info.offset < 0)) {
      throw new MeshctlError(`${name}: member ${member} has an invalid offset (the bundle is damaged)`);
    }
  }
  return doc;
}
