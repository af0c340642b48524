import http from 'node:http';
import https from 'node:https';
import type { Kube } from './client.js';
import { type ApiAction, statusError, transportError } from './errors.js';

/** Bigger answers than this from the API server are refused rather than read into memory. */
export const MAX_REST_BYTES = 512 * 1024 * 1024;

/**
 * One GET to the API server, its JSON answer returned as sent. Authentication, TLS and proxies are
 * applied by client-node's KubeConfig (exactly as for its typed clients); failures become the same
 * one-line errors as `kube.call` (401, 403 naming the RBAC rule, 404 naming the object, timeouts).
 * The typed clients are not used here because their models drop fields they do not know and rewrite
 * timestamps, and a bug-report bundle must hold the objects as the API server sent them.
 */
export async function restGet(kube: Kube, path: string, action: ApiAction): Promise<unknown> {
  const url = new URL(kube.server.replace(/\/+$/, '') + path);
  const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  try {
    await kube.kc.applyToHTTPSOptions(opts);
  } catch (err) {
    throw transportError(err, action, kube.errorContext);
  }
  const mod = url.protocol === 'http:' ? http : https;
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = mod.request(url, { ...opts, signal: AbortSignal.timeout(kube.timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_REST_BYTES) {
          req.destroy(new Error(`answer larger than ${MAX_REST_BYTES / 1048576} MiB`));
          return;
        }
        chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  }).catch((err: unknown) => {
    const name = (err as { name?: string }).name;
    // the request's signal aborts it with an AbortError; transportError turns that into the timeout line
    throw transportError(name === 'TimeoutError' ? { name: 'AbortError', message: 'timeout' } : err, action, kube.errorContext);
  });
  if (status < 200 || status > 299) throw statusError(status, text, action, kube.errorContext);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw statusError(status === 200 ? 502 : status, `not JSON: ${text.slice(0, 80)}`, action, kube.errorContext);
  }
}
