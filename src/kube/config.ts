import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Cluster, Context, KubeConfig, User } from '@kubernetes/client-node';
import { MeshctlError, UsageError, describeError } from '../errors.js';

/** Where the kubeconfig comes from: flags first, then the environment, as kubectl does. */
export interface KubeConfigOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export interface LoadedConfig {
  kc: KubeConfig;
  contextName: string;
  /** The cluster's server URL, for messages ("connection refused by https://…"). */
  server: string;
  /** -n, else the context's namespace, else `default`. */
  namespace: string;
  /** True when -n was given (a `name.ns` reference still wins over it, as in istioctl). */
  namespaceFromFlag: boolean;
  /** The files read, or `in-cluster`. */
  sources: string[];
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Loads the kubeconfig with kubectl's rules: --kubeconfig (one file), else every file of $KUBECONFIG
 * merged (the first file to name a cluster, user or context wins, and so does the first current-context),
 * else ~/.kube/config, else the pod's service account (in-cluster). `KubeConfigClass` is client-node's
 * KubeConfig (or a subclass), passed in so that this module never imports client-node itself.
 */
export function loadKubeConfig(
  options: KubeConfigOptions,
  KubeConfigClass: new () => KubeConfig,
  env: NodeJS.ProcessEnv = process.env,
  /** Prefix of the service-account directory (tests only; client-node's loadFromCluster takes the same). */
  serviceAccountPrefix = '',
): LoadedConfig {
  const kc = new KubeConfigClass();
  let sources: string[];
  if (options.kubeconfig !== undefined) {
    if (!existsSync(options.kubeconfig)) throw new MeshctlError(`kubeconfig ${options.kubeconfig}: no such file`);
    sources = [options.kubeconfig];
  } else if (env.KUBECONFIG) {
    const listed = env.KUBECONFIG.split(path.delimiter).filter((f) => f !== '');
    // kubectl skips KUBECONFIG entries that do not exist, but not an all-missing list
    sources = listed.filter((f) => existsSync(f));
    if (sources.length === 0) {
      throw new MeshctlError(`KUBECONFIG names no existing file (${listed.join(path.delimiter)})`);
    }
  } else {
    const home = env.HOME ?? os.homedir();
    const file = path.join(home, '.kube', 'config');
    if (existsSync(file)) sources = [file];
    else if (env.KUBERNETES_SERVICE_HOST && existsSync(serviceAccountPrefix + path.join(SA_DIR, 'token'))) sources = [];
    else {
      throw new MeshctlError(
        'no kubeconfig: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run inside a pod',
      );
    }
  }

  if (sources.length === 0) {
    kc.loadFromCluster(serviceAccountPrefix);
    sources = ['in-cluster'];
  } else {
    mergeFiles(kc, sources, KubeConfigClass);
  }

  const contextName = options.context ?? kc.getCurrentContext();
  const contextNames = kc.getContexts().map((c) => c.name);
  if (!contextName) {
    throw new MeshctlError(
      `${sources.join(', ')}: no current-context set; pass --context (contexts: ${contextNames.join(', ') || 'none'})`,
    );
  }
  const context = kc.getContextObject(contextName);
  if (!context) {
    const where = options.context !== undefined ? '--context' : 'current-context';
    throw new UsageError(
      `${where} "${contextName}" is not in ${sources.join(', ')} (contexts: ${contextNames.join(', ') || 'none'})`,
    );
  }
  kc.setCurrentContext(contextName);
  const cluster = kc.getCluster(context.cluster);
  if (!cluster) {
    throw new MeshctlError(`context "${contextName}" names cluster "${context.cluster}", which is not in ${sources.join(', ')}`);
  }
  if (context.user && !kc.getUser(context.user)) {
    throw new MeshctlError(`context "${contextName}" names user "${context.user}", which is not in ${sources.join(', ')}`);
  }
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    // client-node refuses plain HTTP unless TLS verification is explicitly off; say so before any request
    throw new MeshctlError(
      `cluster "${cluster.name}" uses plain HTTP (${cluster.server}); set insecure-skip-tls-verify: true for it to be used`,
    );
  }
  if (options.namespace && /[\u0000-\u001f\u007f]/.test(options.namespace)) {
    // echoed raw in later errors, a newline would break the one-line error
    throw new UsageError(`-n ${JSON.stringify(options.namespace)}: a namespace cannot contain a control character`);
  }
  const namespace = options.namespace || context.namespace?.trim() || 'default';
  return {
    kc,
    contextName,
    server: cluster.server,
    namespace,
    namespaceFromFlag: Boolean(options.namespace),
    sources,
  };
}

function mergeFiles(kc: KubeConfig, files: string[], KubeConfigClass: new () => KubeConfig): void {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let current: string | undefined;
  for (const file of files) {
    const one = new KubeConfigClass();
    try {
      one.loadFromFile(file);
    } catch (err) {
      throw new MeshctlError(`kubeconfig ${file}: ${describeError(err)}`);
    }
    for (const c of one.getClusters()) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of one.getUsers()) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of one.getContexts()) if (!contexts.has(c.name)) contexts.set(c.name, c);
    current ||= one.getCurrentContext() || undefined;
  }
  kc.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext: current ?? '',
  });
}
