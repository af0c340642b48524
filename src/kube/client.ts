import type * as k8s from '@kubernetes/client-node';
import type { KubeOptions } from './options.js';
import { parseDuration } from './duration.js';
import { loadKubeConfig } from './config.js';
import { type ApiAction, type ErrorContext, statusError, transportError } from './errors.js';

export type ClientNode = typeof k8s;

/**
 * One cluster connection for one command run: the kubeconfig (client-node's own KubeConfig), API
 * clients, the timeout, and every WebSocket opened through it, so that `close()` can end them all and
 * the process exits by itself.
 */
export interface Kube {
  readonly lib: ClientNode;
  readonly kc: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly batch: k8s.BatchV1Api;
  readonly contextName: string;
  readonly server: string;
  /** -n, else the context's namespace, else `default`. */
  readonly namespace: string;
  readonly istioNamespace: string;
  readonly revision?: string;
  readonly timeoutMs: number;
  readonly errorContext: ErrorContext;
  /**
   * Runs one REST call with the timeout applied and failures turned into one-line MeshctlErrors that
   * name the server, the object, and (for 403) the RBAC verb and resource that are missing.
   */
  call<T>(action: ApiAction, fn: (options: k8s.ConfigurationOptions) => Promise<T>): Promise<T>;
  /** Registers something to end on close() (port-forward and exec sockets). */
  track(closer: () => void): () => void;
  close(): void;
}

export type ConnectOptions = Partial<KubeOptions>;

/** Loads the kubeconfig and prepares API clients; makes no request yet. */
export async function connect(options: ConnectOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<Kube> {
  const timeoutMs = parseDuration(options.timeout ?? '30s');
  const lib = await import('@kubernetes/client-node');

  // client-node builds WebSocket options from the KubeConfig; adding ws's handshakeTimeout here is the
  // only way to bound a port-forward or exec upgrade that the server never answers.
  class TimedKubeConfig extends lib.KubeConfig {
    override async applyToHTTPSOptions(opts: Parameters<k8s.KubeConfig['applyToHTTPSOptions']>[0]): Promise<void> {
      await super.applyToHTTPSOptions(opts);
      (opts as { handshakeTimeout?: number }).handshakeTimeout = timeoutMs;
    }
  }

  const loaded = loadKubeConfig(options, TimedKubeConfig, env);
  const kc = loaded.kc;
  const errorContext: ErrorContext = { server: loaded.server, contextName: loaded.contextName, timeoutMs };
  const closers = new Set<() => void>();

  // a fresh signal per request: the object-parameter APIs take Observable-style middleware
  const withTimeout = (): k8s.ConfigurationOptions => ({
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(AbortSignal.timeout(timeoutMs));
          return new lib.Observable(Promise.resolve(ctx));
        },
        post: (ctx) => new lib.Observable(Promise.resolve(ctx)),
      },
    ],
    middlewareMergeStrategy: 'append',
  });

  return {
    lib,
    kc,
    core: kc.makeApiClient(lib.CoreV1Api),
    apps: kc.makeApiClient(lib.AppsV1Api),
    batch: kc.makeApiClient(lib.BatchV1Api),
    contextName: loaded.contextName,
    server: loaded.server,
    namespace: loaded.namespace,
    istioNamespace: options.istioNamespace ?? 'istio-system',
    revision: options.revision,
    timeoutMs,
    errorContext,
    async call(action, fn) {
      try {
        return await fn(withTimeout());
      } catch (err) {
        if (err instanceof lib.ApiException) throw statusError(err.code, err.body, action, errorContext);
        throw transportError(err, action, errorContext);
      }
    },
    track(closer) {
      closers.add(closer);
      return () => closers.delete(closer);
    },
    close() {
      for (const c of closers) {
        try {
          c();
        } catch {
          // closing is best effort: the socket may already be gone
        }
      }
      closers.clear();
    },
  };
}
