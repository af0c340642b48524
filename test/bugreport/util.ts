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
