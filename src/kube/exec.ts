import { Writable } from 'node:stream';
import type WebSocket from 'ws';
import { MeshctlError } from '../errors.js';
import type { Kube } from './client.js';
import { formatDuration } from './duration.js';
import { type ApiAction, KubeTimeoutError, transportError } from './errors.js';
import type { PodTarget } from './portforward.js';

export interface ExecResult {
  stdout: Buffer;
  stderr: string;
  /** 0 on success; the command's exit code when the status channel reports one. */
  exitCode: number;
  /** The status channel's message on failure. */
  message?: string;
}

interface V1StatusLike {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/**
 * Runs a fixed argument vector in a container through client-node's Exec (no shell, no stdin, no TTY)
 * and collects its output; the exit code comes from the status channel.
 */
export async function execInPod(kube: Kube, pod: PodTarget, container: string, command: string[]): Promise<ExecResult> {
  const action: ApiAction = { verb: 'create', resource: 'pods/exec', namespace: pod.namespace, name: pod.name };
  // the API server refuses an unknown container with a bare 400 on the upgrade; say it plainly first
  const spec = (pod as { pod?: { spec?: { containers?: { name: string }[] } } }).pod?.spec;
  const containers = spec?.containers?.map((c) => c.name);
  if (containers && !containers.includes(container)) {
    throw new MeshctlError(`pod ${pod.name}.${pod.namespace} has no container ${container} (containers: ${containers.join(', ')})`);
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        into.push(chunk);
        cb();
      },
    });
  const stdout = sink(out);
  const stderr = sink(err);
  let status: V1StatusLike | undefined;
  let ws: WebSocket | undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ws?.terminate();
  }, kube.timeoutMs);
  try {
    const exec = new kube.lib.Exec(kube.kc);
    try {
      ws = (await exec.exec(pod.namespace, pod.name, container, command, stdout, stderr, null, false, (s) => {
        status = s as V1StatusLike;
      })) as unknown as WebSocket;
    } catch (e) {
      throw transportError(e, action, kube.errorContext);
    }
    const untrack = kube.track(() => ws?.terminate());
    await new Promise<void>((resolve) => {
      if (ws!.readyState === ws!.CLOSED) resolve();
      else ws!.once('close', () => resolve());
    });
    untrack();
  } finally {
    clearTimeout(timer);
  }
  const where = `${command[0]} in pod ${pod.name}.${pod.namespace} (container ${container})`;
  if (timedOut) throw new KubeTimeoutError(`timed out after ${formatDuration(kube.timeoutMs)} waiting for ${where} (raise --timeout)`);
  const stderrText = Buffer.concat(err).toString('utf8');
  if (!status) throw new MeshctlError(`exec of ${where} ended without an exit status (connection dropped?)`);
  if (status.status === 'Success') return { stdout: Buffer.concat(out), stderr: stderrText, exitCode: 0 };
  const exitCause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (exitCause) {
    return { stdout: Buffer.concat(out), stderr: stderrText, exitCode: Number(exitCause.message) || 1, message: status.message };
  }
  throw new MeshctlError(`exec of ${where} failed: ${status.message ?? status.reason ?? 'unknown error'}`);
}
