import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Writes pretty JSON (one-space indent, as Envoy's admin API prints it) for documents too large to
 * build in memory: arrays wrapped in `lazy()` are produced item by item and written in 1 MiB chunks.
 */
export class Lazy {
  constructor(readonly items: Iterable<unknown>) {}
}

export const lazy = (items: Iterable<unknown>): Lazy => new Lazy(items);

/** An object whose values may be lazy arrays (or further streamed objects). */
export class Streamed {
  constructor(readonly entries: Record<string, unknown>) {}
}

export const streamed = (entries: Record<string, unknown>): Streamed => new Streamed(entries);

export class ChunkWriter {
  private readonly fd: number;
  private parts: string[] = [];
  private size = 0;
  bytes = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= 1 << 20) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    writeSync(this.fd, buf);
    this.bytes += buf.length;
    this.parts = [];
    this.size = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

const INDENT = ' ';

export function writeJson(out: ChunkWriter, value: unknown, depth = 0): void {
  const pad = INDENT.repeat(depth);
  if (value instanceof Lazy) {
    let first = true;
    out.write('[');
    for (const item of value.items) {
      out.write(first ? '\n' : ',\n');
      out.write(pad + INDENT);
      writeJson(out, item, depth + 1);
      first = false;
    }
    out.write(first ? ']' : `\n${pad}]`);
  } else if (value instanceof Streamed) {
    const keys = Object.keys(value.entries).filter((k) => value.entries[k] !== undefined);
    out.write('{');
    keys.forEach((k, n) => {
      out.write(`${n === 0 ? '\n' : ',\n'}${pad}${INDENT}${JSON.stringify(k)}: `);
      writeJson(out, value.entries[k], depth + 1);
    });
    out.write(keys.length ? `\n${pad}}` : '}');
  } else {
    const text = JSON.stringify(value, null, INDENT);
    out.write(depth === 0 ? text : text.replaceAll('\n', '\n' + pad));
  }
}

export function writeJsonFile(path: string, value: unknown): number {
  const out = new ChunkWriter(path);
  writeJson(out, value);
  out.write('\n');
  out.close();
  return out.bytes;
}
