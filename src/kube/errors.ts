import { MeshctlError, describeError } from '../errors.js';
import { formatDuration } from './duration.js';

/** What a call to the API server was doing, so that a failure can say it in RBAC terms. */
export interface ApiAction {
  verb: 'get' | 'list' | 'create';
  /** Plural resource, with subresource: `pods`, `deployments`, `pods/portforward`. */
  resource: string;
  /** API group ('' for core), named in RBAC hints. */
  group?: string;
  namespace?: string;
  name?: string;
}

export interface ErrorContext {
  server: string;
  contextName: string;
  timeoutMs: number;
}

/** Thrown for 403 so callers can fall back (port-forward → exec) without parsing messages. */
export class ForbiddenError extends MeshctlError {
  constructor(message: string, readonly action: ApiAction) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/** Thrown for 404 so callers can look for near matches before giving up. */
export class NotFoundError extends MeshctlError {
  constructor(message: string, readonly action: ApiAction) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class KubeTimeoutError extends MeshctlError {
  constructor(message: string) {
    super(message);
    this.name = 'KubeTimeoutError';
  }
}

export function describeAction(a: ApiAction): string {
  const [base, sub] = a.resource.split('/');
  // subresources read as RBAC names them: "create pods/exec of pod x"
  const what = sub && a.name ? `${a.resource} of ${singular(base)} ${a.name}` : a.name ? `${singular(a.resource)} ${a.name}` : a.resource;
  return a.namespace ? `${a.verb} ${what} in namespace ${a.namespace}` : `${a.verb} ${what}`;
}

function singular(resource: string): string {
  if (resource === 'endpoints') return resource;
  return resource.endsWith('ses') ? resource.slice(0, -2) : resource.endsWith('s') ? resource.slice(0, -1) : resource;
}

/** The RBAC rule that would allow the action, in the words of a Role. */
export function rbacHint(a: ApiAction): string {
  const group = a.group ? ` in API group "${a.group}"` : '';
  const scope = a.namespace ? ` in namespace ${a.namespace}` : ' (cluster-wide)';
  return `RBAC needs verb "${a.verb}" on resource "${a.resource}"${group}${scope}`;
}

/** An HTTP status from the API server (REST or a refused WebSocket upgrade) as one clear line. */
export function statusError(code: number, body: unknown, a: ApiAction, ctx: ErrorContext): MeshctlError {
  const status = parseStatus(body);
  if (code === 401) {
    return new MeshctlError(
      `unauthorized (401): the API server at ${ctx.server} did not accept the credentials of context "${ctx.contextName}"; refresh them or check the kubeconfig user`,
    );
  }
  if (code === 403) {
    const user = /User "([^"]*)"/.exec(status?.message ?? '')?.[1];
    const who = user ? `user "${user}"` : `context "${ctx.contextName}"`;
    return new ForbiddenError(`forbidden (403): ${who} may not ${describeAction(a)}: ${rbacHint(a)}`, a);
  }
  if (code === 404) {
    if (status?.kind !== 'Status' && status?.reason !== 'NotFound') {
      // a Kubernetes API server always explains a 404 with a Status object
      return new MeshctlError(`${ctx.server} answered 404 to ${describeAction(a)} without a Kubernetes Status: is it a Kubernetes API server?`);
    }
    if (a.name) {
      return new NotFoundError(`${singular(a.resource.split('/')[0])} ${a.name} not found in namespace ${a.namespace ?? '(none)'}`, a);
    }
    return new NotFoundError(`the API server at ${ctx.server} has no ${a.resource}${a.group ? ` (${a.group})` : ''}: 404 for ${describeAction(a)}`, a);
  }
  const detail = status?.message ? `: ${status.message}` : '';
  return new MeshctlError(`the API server at ${ctx.server} answered ${code} to ${describeAction(a)}${detail}`);
}

interface Status {
  kind?: string;
  message?: string;
  reason?: string;
}

function parseStatus(body: unknown): Status | undefined {
  if (body && typeof body === 'object') return body as Status;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as unknown;
      if (parsed && typeof parsed === 'object') return parsed as Status;
    } catch {
      return body.trim() ? { message: body.trim().split('\n')[0] } : undefined;
    }
  }
  return undefined;
}

/** A transport failure (refused, reset, DNS, TLS, timeout) on the way to the API server. */
export function transportError(err: unknown, a: ApiAction, ctx: ErrorContext): MeshctlError {
  if (err instanceof MeshctlError) return err;
  const e = err as { name?: string; type?: string; code?: string; errno?: string; message?: string; error?: unknown };
  // ws hands errors over as an ErrorEvent wrapping the real one
  const inner = (e && typeof e === 'object' && 'error' in e && e.error instanceof Error ? e.error : err) as typeof e;
  const code = inner?.code ?? inner?.errno ?? '';
  // node-fetch wraps the cause as "request to <url> failed, reason: <cause>"; the URL is noise here
  const message = (inner?.message ?? describeError(err)).replace(/^request to \S+ failed, reason: /, '');
  if (inner?.name === 'AbortError' || inner?.type === 'aborted' || /handshake has timed out/i.test(message)) {
    return new KubeTimeoutError(
      `timed out after ${formatDuration(ctx.timeoutMs)} waiting for the API server at ${ctx.server} to ${describeAction(a)} (raise --timeout)`,
    );
  }
  const upgrade = /Unexpected server response: (\d+)/.exec(message);
  if (upgrade) return statusError(Number(upgrade[1]), undefined, a, ctx);
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) {
    return new MeshctlError(`cannot reach the API server at ${ctx.server}: connection refused (context "${ctx.contextName}")`);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new MeshctlError(`cannot reach the API server at ${ctx.server}: host not found (context "${ctx.contextName}")`);
  }
  if (code === 'ECONNRESET' || /socket hang up/.test(message)) {
    return new MeshctlError(`the API server at ${ctx.server} closed the connection while trying to ${describeAction(a)}`);
  }
  if (/certificate|self[- ]signed|TLS|SSL/i.test(message)) {
    return new MeshctlError(
      `TLS error talking to the API server at ${ctx.server}: ${firstLine(message)} (check certificate-authority of context "${ctx.contextName}")`,
    );
  }
  return new MeshctlError(`cannot ${describeAction(a)} at ${ctx.server}: ${firstLine(message)}`);
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}
