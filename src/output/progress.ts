import { fstatSync } from 'node:fs';

/**
 * Progress of a long fan-out on stderr: a bar redrawn in place on a terminal, a plain line now and then
 * when stderr goes to a file (a CI log), and nothing at all when it goes to a pipe or socket (another
 * program reads it: only warnings and errors belong there).
 */
export interface Progress {
  readonly mode: 'bar' | 'lines' | 'quiet';
  /** `label` done of total, with an optional byte count (what has been written so far). */
  update(label: string, done: number, total: number, bytes?: number): void;
  /** Clears the bar; safe to call twice. */
  end(): void;
}

export function progressMode(stream: NodeJS.WriteStream): Progress['mode'] {
  if (stream.isTTY) return 'bar';
  const fd = (stream as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return 'quiet';
  try {
    const st = fstatSync(fd);
    return st.isFile() ? 'lines' : 'quiet';
  } catch {
    return 'quiet';
  }
}

export function createProgress(prefix: string, stream: NodeJS.WriteStream = process.stderr, mode = progressMode(stream)): Progress {
  let lastDraw = 0;
  let lastLabel = '';
  let lastStep = -1;
  let drawn = false;
  const text = (label: string, done: number, total: number, bytes?: number) =>
    `${label} ${done}/${total}${bytes !== undefined ? ` · ${mb(bytes)} MB` : ''}`;
  return {
    mode,
    update(label, done, total, bytes) {
      if (mode === 'quiet') return;
      if (mode === 'lines') {
        // a line when a phase starts or ends, and at every tenth of it
        const step = total > 0 ? Math.floor((done * 10) / total) : 10;
        if (label === lastLabel && step === lastStep) return;
        lastLabel = label;
        lastStep = step;
        stream.write(`${prefix}: ${text(label, done, total, bytes)}\n`);
        return;
      }
      const now = Date.now();
      if (now - lastDraw < 100 && done < total && label === lastLabel) return;
      lastDraw = now;
      lastLabel = label;
      const width = 24;
      const filled = total > 0 ? Math.round((done / total) * width) : width;
      const columns = stream.columns || 80;
      const line = `${prefix} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text(label, done, total, bytes)}`;
      stream.write(`\r${line.slice(0, columns - 1)}\x1b[K`);
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}

function mb(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}
