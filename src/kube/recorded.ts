import { MeshctlError, describeError } from '../errors.js';
import type { RecordedError } from '../source/bundle/format.js';
import { ForbiddenError, KubeTimeoutError, NotFoundError } from './errors.js';

/** A failure as a bundle keeps it: the message, and the kind of failure callers act on. */
export function toRecordedError(err: unknown): RecordedError {
  const message = describeError(err);
  if (err instanceof ForbiddenError) return { message, type: 'forbidden', action: { ...err.action } };
  if (err instanceof NotFoundError) return { message, type: 'not-found', action: { ...err.action } };
  if (err instanceof KubeTimeoutError) return { message, type: 'timeout' };
  return { message, type: 'error' };
}

/**
 * The same failure again, of the same class: a 403 recorded by bug-report is a ForbiddenError when read back.
 * `message` replaces the recorded one (when the failure answers a narrower question than the one refused).
 */
export function fromRecordedError(r: RecordedError, message = r.message): MeshctlError {
  if (r.type === 'forbidden' && r.action) return new ForbiddenError(message, r.action);
  if (r.type === 'not-found' && r.action) return new NotFoundError(message, r.action);
  if (r.type === 'timeout') return new KubeTimeoutError(message);
  return new MeshctlError(message);
}
