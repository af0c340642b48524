import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fixture } from '../helpers.js';
import { type ApiServer, type ExecHandler, type KubeObject, type RbacDenial, startApiServer, writeKubeconfig } from './apiserver.js';
import { type Backend, type Garble, startEnvoyAdmin, startIstiodDebug } from './backends.js';
import type { ServedVersions } from './served.js';
import { ZTUNNEL_NAMESPACE, ambientObjects, curlInPod, startZtunnelAdmin, waypointDumps, ztunnelDumps } from './ztunnel.js';

/**
 * A whole fake cluster for live-mode tests: the API-server stand-in with the objects of
 * fixtures/live/cluster.json, an Envoy admin server behind each sidecar pod's port 15000, istiod
 * debug servers behind each istiod's port 15014, exec of `pilot-agent request`, and a kubeconfig.
 */

export const PRODUCTPAGE = 'productpage-v1-7d4b8d9b7c-x2x9z';
export const REVIEWS_V1 = 'reviews-v1-545db77b95-ksq7f';
/** The istio-cni-node pod of node-1 (with `iptables`): its install-cni log holds reviews-v2's rules. */
export const ISTIO_CNI_NODE = 'istio-cni-node-4kx7q';
export const REVIEWS_V2 = 'reviews-v2-7bf8c9648f-mx2lp';
export const ISTIOD_A = 'istiod-7c9d8b6f5-abcde';
export const ISTIOD_B = 'istiod-7c9d8b6f5-fghij';
export const ISTIOD_CANARY = 'istiod-canary-5b7d6c8f9-kl3mn';

export interface ClusterOptions {
  deny?: RbacDenial[];
  /** API paths accepted and never answered. */
  hangPaths?: string[];
  /** API paths (prefix) answered with this status, e.g. `{ prefix: '/api', code: 500 }`. */
  failPaths?: { prefix: string; code: number }[];
  dropAfterBytes?: number;
  /** Envoy admin paths accepted and never answered. */
  envoyHang?: string[];
  /** istiod pods whose debug port refuses connections. */
  istiodDown?: string[];
  /** Envoy admin / istiod debug answer HTML or garbage instead of JSON. */
  envoyGarble?: Garble;
  istiodGarble?: Garble;
  /** ztunnel admin paths accepted and never answered; its /config_dump garbled. */
  ztunnelHang?: string[];
  ztunnelGarble?: Garble;
  /** The waypoints' Envoy admin answers garbage. */
  waypointGarble?: Garble;
  token?: string;
  /** HTTPS with the test CA of fixtures/live/tls (the kubeconfig trusts `trustedCa`, default that CA). */
  tls?: boolean;
  trustedCa?: 'ca' | 'other-ca';
  /**
   * Pods with iptables rules to read: productpage gets an istio-init container whose log holds the rules
   * (fixtures/iptables/istio-init-dns.log); in reviews-v1, iptables-save and ip6tables-save by exec print
   * fixtures/iptables/classic-sidecar.iptables-save.txt (in istio-proxy; elsewhere they are not found).
   */
  iptables?: boolean;
  /** The namespace of the istio-cni-node pods (with `iptables`; default istio-system, kube-system on some platforms). */
  cniNamespace?: string;
  /** More objects for the API server, beside those of fixtures/live/cluster.json (Istio config, say). */
  extraObjects?: KubeObject[];
  /** API versions served per `plural.group`, over the stand-in's defaults (./served.ts); `[]`: CRD not installed. */
  served?: ServedVersions;
}

export interface FakeCluster {
  api: ApiServer;
  kubeconfig: string;
  dir: string;
  envoys: Map<string, Backend>;
  istiods: Map<string, Backend>;
  /** ztunnel pod → its admin server (port 15000), see ./ztunnel.ts */
  ztunnels: Map<string, Backend>;
  /** Every exec the API server ran, as `pod container: argv`. */
  execs: string[];
  /** The same execs with their argument vectors as received, element by element (safety tests). */
  execArgv: { pod: string; container: string; argv: string[] }[];
  close(): Promise<void>;
}

export function clusterObjects(): KubeObject[] {
  const items = (JSON.parse(readFileSync(fixture('live', 'cluster.json'), 'utf8')) as { items: KubeObject[] }).items;
  return [...items, ...ambientObjects(items)];
}

export async function startCluster(options: ClusterOptions = {}): Promise<FakeCluster> {
  const live = (f: string) => fixture('live', f);
  const envoys = new Map<string, Backend>();
  const istiods = new Map<string, Backend>();
  const backends = new Map<string, number>();
  for (const pod of [PRODUCTPAGE, REVIEWS_V1, REVIEWS_V2]) {
    const b = await startEnvoyAdmin({
      configDump: live('productpage-config_dump.json'),
      configDumpWithEds: live('productpage-config_dump-eds.json'),
      clusters: live('productpage-clusters.json'),
      serverInfo: live('productpage-server_info.json'),
      hang: options.envoyHang,
      garble: options.envoyGarble,
    });
    envoys.set(pod, b);
    backends.set(`default/${pod}:15000`, b.port);
  }
  const configDumps = {
    [`${PRODUCTPAGE}.default`]: live('istiod-config_dump-productpage.json'),
    [`${REVIEWS_V1}.default`]: live('istiod-config_dump-reviews.json'),
  };
  for (const [pod, which] of [[ISTIOD_A, 'a'], [ISTIOD_B, 'b'], [ISTIOD_CANARY, 'canary']] as const) {
    const b = await startIstiodDebug({
      registryz: live('istiod-registryz.json'),
      syncz: live(`istiod-${which}-syncz.json`),
      configz: live('istiod-configz.json'),
      endpointz: live('istiod-endpointz.json'),
      adsz: live(`istiod-${which === 'canary' ? 'a' : which}-adsz.json`),
      configDumps,
      garble: options.istiodGarble,
    });
    istiods.set(pod, b);
    if (!(options.istiodDown ?? []).includes(pod)) backends.set(`istio-system/${pod}:15014`, b.port);
  }
  const ztunnels = new Map<string, Backend>();
  for (const [pod, dump] of ztunnelDumps()) {
    const b = await startZtunnelAdmin({ configDump: dump, hang: options.ztunnelHang, garble: options.ztunnelGarble });
    ztunnels.set(pod, b);
    backends.set(`${ZTUNNEL_NAMESPACE}/${pod}:15000`, b.port);
  }
  // the waypoints' Envoys: their admin API serves the generated waypoint dumps (fixtures/ztunnel/waypoint.mjs)
  for (const [pod, w] of waypointDumps()) {
    const b = await startEnvoyAdmin({ configDump: w.dump, hang: options.envoyHang, garble: options.waypointGarble });
    envoys.set(pod, b);
    backends.set(`${w.namespace}/${pod}:15000`, b.port);
  }
  const execs: string[] = [];
  const execArgv: FakeCluster['execArgv'] = [];
  const exec: ExecHandler = async (pod, container, command) => {
    execs.push(`${pod.metadata.name} ${container}: ${command.join(' ')}`);
    execArgv.push({ pod: pod.metadata.name, container, argv: [...command] });
    const [bin, sub, method, reqPath, ...rest] = command;
    if (bin === 'curl') return curlInPod(command, (port) => backends.get(`${pod.metadata.namespace}/${pod.metadata.name}:${port}`));
    if (options.iptables && pod.metadata.name === REVIEWS_V1 && container === 'istio-proxy' && (bin === 'iptables-save' || bin === 'ip6tables-save')) {
      const save = readFileSync(fixture('iptables', 'classic-sidecar.iptables-save.txt'), 'utf8');
      const at = save.indexOf('# Generated by ip6tables-save');
      return { stdout: bin === 'iptables-save' ? save.slice(0, at) : save.slice(at), exitCode: 0 };
    }
    if (bin !== 'pilot-agent' || sub !== 'request' || !method || reqPath === undefined) {
      return { stderr: `exec: "${bin}": executable file not found in $PATH`, exitCode: 127 };
    }
    const portFlag = rest.indexOf('--debug-port');
    const port = portFlag >= 0 ? Number(rest[portFlag + 1]) : 15000;
    const target = backends.get(`${pod.metadata.namespace}/${pod.metadata.name}:${port}`);
    if (target === undefined) return { stderr: `Error: dial tcp 127.0.0.1:${port}: connect: connection refused`, exitCode: 1 };
    const res = await localRequest(target, method, '/' + reqPath);
    if (res.status !== 200) return { stdout: res.body, stderr: `Error: received unexpected status ${res.status}`, exitCode: 1 };
    return { stdout: res.body, exitCode: 0 };
  };
  const objects = [...clusterObjects(), ...(options.extraObjects ?? [])];
  const logs = new Map([[`default/${PRODUCTPAGE}/istio-proxy`, 'line one\nline two\nline three\n']]);
  if (options.iptables) {
    const pp = objects.find((o) => o.kind === 'Pod' && o.metadata.name === PRODUCTPAGE)!;
    (pp.spec as { initContainers?: unknown[] }).initContainers = [{ name: 'istio-init', image: 'docker.io/istio/proxyv2:1.24.0' }];
    logs.set(`default/${PRODUCTPAGE}/istio-init`, readFileSync(fixture('iptables', 'istio-init-dns.log'), 'utf8'));
    // reviews-v2 in CNI mode: istio-validation instead of istio-init; the istio-cni-node pod of its node
    // logged the rules the plugin set up (fixtures/iptables/istio-cni-node.log)
    const rv2 = objects.find((o) => o.kind === 'Pod' && o.metadata.name === REVIEWS_V2)!;
    (rv2.spec as { initContainers?: unknown[] }).initContainers = [{ name: 'istio-validation', image: 'docker.io/istio/proxyv2:1.24.0' }];
    const cniNs = options.cniNamespace ?? 'istio-system';
    objects.push(cniNodePod(ISTIO_CNI_NODE, 'node-1', cniNs), cniNodePod('istio-cni-node-9z8y7', 'node-2', cniNs));
    logs.set(`${cniNs}/${ISTIO_CNI_NODE}/install-cni`, readFileSync(fixture('iptables', 'istio-cni-node.log'), 'utf8'));
  }
  const api = await startApiServer({
    objects,
    deny: options.deny,
    hangPaths: options.hangPaths,
    failPaths: options.failPaths,
    served: options.served,
    dropAfterBytes: options.dropAfterBytes,
    token: options.token,
    backends,
    exec,
    logs,
    tls: options.tls ? { cert: readFileSync(fixture('live', 'tls', 'server.crt'), 'utf8'), key: readFileSync(fixture('live', 'tls', 'server.key'), 'utf8') } : undefined,
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-harness-'));
  const ca = options.tls ? readFileSync(fixture('live', 'tls', `${options.trustedCa ?? 'ca'}.crt`), 'utf8') : undefined;
  const kubeconfig = await writeKubeconfig(path.join(dir, 'kubeconfig'), { server: api.url, ca });
  return {
    api,
    kubeconfig,
    dir,
    envoys,
    istiods,
    ztunnels,
    execs,
    execArgv,
    close: async () => {
      await api.close();
      for (const b of [...envoys.values(), ...istiods.values(), ...ztunnels.values()]) await b.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A pod of the istio-cni-node DaemonSet (labels and container as the istio-cni chart names them). */
function cniNodePod(name: string, node: string, namespace: string): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace, labels: { 'k8s-app': 'istio-cni-node' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'istio-cni-node', uid: 'ds-cni', controller: true }] },
    spec: { nodeName: node, containers: [{ name: 'install-cni', image: 'docker.io/istio/install-cni:1.24.0' }] },
    status: { phase: 'Running', podIP: '10.244.0.40' },
  };
}

function localRequest(port: number, method: string, reqPath: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: reqPath, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}
