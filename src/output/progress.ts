/**
 * Progress of a long fan-out (proxy-status over many istiods, `proxy-config log -l`, report, bug-report).
 *
 * On a terminal: one line redrawn in place (`label [#####·····] 12/40 name`), at most ~10 times a
 * second, erased when done. Anywhere else (pipes, files, CI logs, tests) it is quiet by default, so
 * output stays clean for scripts; a long job whose log is worth keeping (bug-report) asks for
 * `plain: 'lines'`: a plain line at each tenth of the way and at the end, never more than ~11 lines.
 * Progress always goes to stderr (or the stream given), never to stdout.
 */
export interface Progress {
  /** One more item finished (`what`: the item, shown on a terminal). */
  tick(what?: string): void;
  /** Sets the count directly (fanout reports done/total). */
  update(done: number, what?: string): void;
  /** Ends the display (erases the terminal line); idempotent. */
  done(): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Not a terminal: say nothing (default), or write plain progress lines. */
  plain?: 'quiet' | 'lines';
  /** Milliseconds between terminal redraws (default 100); tests pass 0. */
  interval?: number;
  now?: () => number;
}

const NOOP: Progress = { tick() {}, update() {}, done() {} };

export function startProgress(label: string, total: number, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  if (!tty && options.plain !== 'lines') return NOOP;
  if (total <= 0) return NOOP;
  const now = options.now ?? Date.now;
  const interval = options.interval ?? 100;
  let count = 0;
  let lastDraw = -Infinity;
  let lastTenth = 0;
  let drawn = false;
  let finished = false;

  const drawTty = (what?: string) => {
    // a terminal that reports no size (columns 0: a pty nobody sized, `kubectl exec -t`, `script`) is taken as 80 wide
    const width = Math.max(20, (stream.columns || 80) - 1);
    const counter = `${count}/${total}`;
    const barWidth = Math.max(5, Math.min(30, width - label.length - counter.length - 6));
    const filled = Math.round((barWidth * count) / total);
    let line = `${label} [${'#'.repeat(filled)}${'·'.repeat(barWidth - filled)}] ${counter}`;
    if (what) line += ` ${printableName(what)}`;
    if (line.length > width) line = line.slice(0, width);
    stream.write(`\r${line}\x1b[K`);
    drawn = true;
  };

  const update = (done: number, what?: string) => {
    if (finished) return;
    count = Math.min(total, Math.max(0, done));
    if (tty) {
      const t = now();
      if (count === total || t - lastDraw >= interval) {
        lastDraw = t;
        drawTty(what);
      }
      if (count === total) finish();
      return;
    }
    const tenth = Math.floor((10 * count) / total);
    if (tenth > lastTenth || count === total) {
      lastTenth = tenth;
      stream.write(`${label}: ${count}/${total} (${Math.floor((100 * count) / total)}%)\n`);
    }
    if (count === total) finished = true;
  };

  const finish = () => {
    if (finished) return;
    finished = true;
    if (tty && drawn) stream.write('\r\x1b[K');
  };

  return {
    tick: (what) => update(count + 1, what),
    update,
    done: finish,
  };
}

/** The `onProgress` callback a fan-out takes (src/kube/fanout.ts), or undefined when nothing is shown. */
export function fanoutProgress(label: string, options: ProgressOptions = {}): ((done: number, total: number) => void) | undefined {
  const stream = options.stream ?? process.stderr;
  if (!stream.isTTY && options.plain !== 'lines') return undefined;
  let p: Progress | undefined;
  let total = -1;
  return (done, t) => {
    if (!p || t !== total) {
      p?.done();
      total = t;
      p = startProgress(label, t, { ...options, stream });
    }
    p.update(done);
  };
}

/** Names come from the cluster: no control characters reach the terminal. */
function printableName(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
