/** An error meant for the user: printed as one line on stderr, never with a stack unless --verbose. */
export class MeshctlError extends Error {
  constructor(message: string, readonly exitCode: number = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MeshctlError';
  }
}

/** Wrong flags or arguments: exit code 2, as commander and istioctl use for usage mistakes. */
export class UsageError extends MeshctlError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/**
 * A bug-report bundle whose member cannot be read as its index says (damaged, truncated, refused).
 * Never a warning or a fallback: an answer from a damaged bundle could be wrong without saying so, so
 * code that tolerates a missing answer (rules by log, else by exec; a proxy that did not answer)
 * rethrows this one.
 */
export class DamagedBundleError extends MeshctlError {
  constructor(message: string) {
    super(message);
    this.name = 'DamagedBundleError';
  }
}

/** Best one-line description of anything thrown. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] || err.name;
  return String(err);
}
