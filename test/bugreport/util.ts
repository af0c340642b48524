import { createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';

/** Unpacks a bundle into `dir` the way a user's `tar xzf` would (tests only: meshctl itself never unpacks). */
export async function unpack(tgz: string, dir: string): Promise<string[]> {
  const names: string[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c) => chunks.push(c as Buffer));
      stream.on('end', () => {
        if (header.type === 'file') {
          const file = path.join(dir, header.name);
          if (!file.startsWith(dir + path.sep)) throw new Error(`test unpack: unsafe name ${header.name}`);
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, Buffer.concat(chunks));
          names.push(header.name);
        }
        next();
      });
    });
    ex.on('finish', () => resolve());
    ex.on('error', reject);
  });
  createReadStream(tgz).pipe(createGunzip()).pipe(ex);
  await done;
  return names;
}

/**
 * A copy of bundle `tgz` at `out` with one byte flipped in the middle of `member`'s compressed bytes:
 * a member damaged in transit, which only a read of that member notices.
 */
export async function damageMember(tgz: string, member: string, out: string): Promise<void> {
  const { openBundle } = await import('../../src/source/bundle/reader.js');
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { index } = await openBundle(tgz);
  const at = index.members[member]?.offset;
  if (at === undefined) throw new Error(`test damageMember: ${member} has no offset in ${tgz}`);
  const starts = Object.values(index.members).map((m) => m.offset ?? 0);
  const data = readFileSync(tgz);
  const end = Math.min(data.length, ...starts.filter((o) => o > at));
  data[Math.floor((at + end) / 2)] ^= 0xff;
  writeFileSync(out, data);
}
