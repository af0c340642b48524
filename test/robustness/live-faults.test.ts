/**
 * Live-mode fault battery: every command that talks to a cluster, against every way the cluster can
 * fail (API server refused, hanging, 401, 403, 404, 500, a port-forward cut mid-body, an admin port
 * answering HTML or garbage, one istiod replica down). Each case must end by itself with exit 1 and one
 * clear `Error:` line (or exit 0 with a warning naming what is missing), never a stack trace.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { writeKubeconfig } from '../harness/apiserver.js';
import { type ClusterOptions, type FakeCluster, ISTIOD_B, PRODUCTPAGE, startCluster } from '../harness/cluster.js';
import { type CliResult, fixture, isOneLineError, pool, runCli } from '../helpers.js';

const POD = `${PRODUCTPAGE}.default`;
const MISSING = 'ghost-6f7d8c9b5-zzzzz';

interface Command {
  name: string;
  args: (pod: string) => string[];
  /** Takes a pod (so a missing pod is a case). */
  pod: boolean;
  /** Reads an Envoy admin API over a port-forward. */
  envoy: boolean;
  /** Reads istiod's debug API over port-forwards. */
  istiod: boolean;
  /** Parses a JSON answer of the admin API (proxy-config log reads plain text from /logging). */
  json?: boolean;
  /**
   * proxy-config kinds that fetch the same admin path as another (listeners, routes, secret, bootstrap,
   * ecds all read /config_dump as clusters does): run only against faults in what comes back, so the
   * battery stays within a minute on a loaded machine.
   */
  sameFetchAs?: string;
  /**
   * Faults past the API server (admin or istiod unreadable) are reported inside the result, as a
   * WARNING line on stdout, with exit 0: describe shows what it could still learn from the objects.
   */
  degrades?: RegExp;
}

const pc = (kind: string, sameFetchAs?: string): Command => ({
  name: `proxy-config ${kind}`, args: (p) => ['proxy-config', kind, p], pod: true, envoy: true, istiod: false, json: kind !== 'log', sameFetchAs,
});
const COMMANDS: Command[] = [
  ...['clusters', 'endpoints', 'all', 'log'].map((k) => pc(k)),
  ...['listeners', 'routes', 'secret', 'bootstrap', 'ecds'].map((k) => pc(k, 'clusters')),
  { name: 'proxy-status', args: () => ['proxy-status'], pod: false, envoy: false, istiod: true },
  { name: 'proxy-status <pod>', args: (p) => ['proxy-status', p], pod: true, envoy: true, istiod: true, json: true },
  { name: 'istiod registry', args: () => ['istiod', 'registry'], pod: false, envoy: false, istiod: true },
  { name: 'istiod debug syncz', args: () => ['istiod', 'debug', 'syncz', '-o', 'json'], pod: false, envoy: false, istiod: true },
  { name: 'trace <pod> URL', args: (p) => ['trace', p, 'http://reviews:9080/'], pod: true, envoy: true, istiod: false, json: true },
  { name: 'iptables <pod>', args: (p) => ['iptables', p], pod: true, envoy: false, istiod: false },
  { name: 'kube-inject --kubeconfig', args: () => ['kube-inject', '-f', fixture('inject', 'shop-web.yaml')], pod: false, envoy: false, istiod: false },
];
COMMANDS.push({
  name: 'describe pod <pod>', args: (p) => ['describe', 'pod', p], pod: true, envoy: true, istiod: true, json: true,
  degrades: /^WARNING: (cannot read the proxy's config dump|cannot ask istiod which replica serves the proxy|istiod \S+ did not answer)/m,
});

interface Fault {
  name: string;
  cluster?: ClusterOptions;
  /** A kubeconfig pointing at a port nobody listens on. */
  down?: boolean;
  timeout?: string;
  applies: (c: Command) => boolean;
  pod?: string;
  /** What the one stderr line must say (exit 1), or the warning (exit 0) when `partial`. */
  expect: (c: Command) => RegExp;
  partial?: (c: Command) => boolean;
  /** Past the API server: a command that `degrades` reports it in its result instead of failing. */
  pastApi?: boolean;
}

const ALL = () => true;
/** Faults before any admin path is fetched: one proxy-config kind per distinct fetch is enough. */
const API = (c: Command) => c.sameFetchAs === undefined;
const FAULTS: Fault[] = [
  { name: 'API server down', down: true, applies: API, expect: () => /cannot reach the API server at http:\/\/127\.0\.0\.1:\d+: connection refused/ },
  {
    name: 'API server hangs', cluster: { hangPaths: ['/api', '/apis'] }, timeout: '1s', applies: API,
    expect: () => /timed out after 1s waiting for the API server at http:\/\/127\.0\.0\.1:\d+ to .* \(raise --timeout\)/,
  },
  {
    name: 'Envoy admin hangs', pastApi: true, cluster: { envoyHang: ['/config_dump', '/clusters', '/server_info', '/logging'] }, timeout: '1s',
    applies: (c) => c.envoy && API(c), expect: () => /timed out after 1s waiting for/,
  },
  { name: '401 bad token', cluster: { token: 'not-the-harness-token' }, applies: API, expect: () => /unauthorized \(401\)/ },
  {
    name: '403 on pods and configmaps',
    cluster: { deny: [{ verb: 'get', resource: 'pods' }, { verb: 'list', resource: 'pods' }, { verb: 'get', resource: 'configmaps' }, { verb: 'list', resource: 'configmaps' }] },
    applies: API, expect: () => /forbidden \(403\): .* may not (get|list) (pods?|configmaps?)\b.*: RBAC needs verb "(get|list)" on resource "(pods|configmaps)"/,
  },
  {
    name: '403 on port-forward and exec', pastApi: true,
    cluster: { deny: [{ verb: 'create', resource: 'pods/portforward' }, { verb: 'create', resource: 'pods/exec' }] },
    applies: (c) => (c.envoy || c.istiod) && API(c),
    expect: () => /forbidden \(403\): (.* )?may (not create pods\/(portforward|exec)|neither port-forward to nor exec in pod) .*RBAC needs verb "create" on resource "pods\/(portforward|exec)"/,
  },
  { name: '404 missing pod', pod: MISSING, applies: (c) => c.pod && API(c), expect: () => new RegExp(`pod ${MISSING} not found`) },
  { name: '500 from the API server', cluster: { failPaths: [{ prefix: '/api', code: 500 }] }, applies: API, expect: () => /answered 500 to .*Internal error occurred/ },
  {
    name: 'port-forward closes mid-body', pastApi: true, cluster: { dropAfterBytes: 600 }, applies: (c) => ((c.envoy && c.json) || c.istiod) && API(c),
    expect: () => /port-forward to pod \S+ port (15000|15014) closed after \d+ bytes while reading \S+, before the response was complete/,
  },
    { name: 'Envoy admin answers HTML', pastApi: true, cluster: { envoyGarble: 'html' }, applies: (c) => c.envoy && c.json === true, expect: () => /: an HTML page \("502 Bad Gateway"\), not JSON or YAML$/m },
  { name: 'Envoy admin answers garbage', pastApi: true, cluster: { envoyGarble: 'garbage' }, applies: (c) => c.envoy && c.json === true && API(c), expect: () => /JSON|binary|not valid/ },
  {
    name: 'istiod answers HTML', pastApi: true, cluster: { istiodGarble: 'html' }, applies: (c) => c.istiod,
    // istiod debug is raw access: an answer that is not JSON is shown as sent (some debug endpoints are text)
    partial: (c) => c.name.startsWith('istiod debug'),
    expect: (c) => (c.name.startsWith('istiod debug') ? /^$/ : /: an HTML page \("502 Bad Gateway"\), not JSON or YAML$/m),
  },
  {
    name: 'one istiod replica down', pastApi: true, cluster: { istiodDown: [ISTIOD_B] }, applies: (c) => c.istiod,
    // proxy-status <pod> asks the istiod its proxy is connected to; another replica being down changes nothing
    partial: ALL, expect: (c) => (c.pod ? /^$/ : new RegExp(`^warning: istiod ${ISTIOD_B} did not answer, its data is missing: .*connection refused\n$`)),
  },
];

interface Case {
  fault: Fault;
  command: Command;
  args: string[];
}

const clusters = new Map<Fault, FakeCluster>();
const kubeconfigs = new Map<Fault, string>();
let downDir: FakeCluster;
const cases: Case[] = [];

async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

before(async () => {
  for (const fault of FAULTS) {
    if (fault.down) continue;
    const c = await startCluster(fault.cluster ?? {});
    clusters.set(fault, c);
    kubeconfigs.set(fault, c.kubeconfig);
  }
  downDir = clusters.values().next().value!;
  for (const fault of FAULTS.filter((f) => f.down)) {
    kubeconfigs.set(fault, await writeKubeconfig(path.join(downDir.dir, 'down-kubeconfig'), { server: `http://127.0.0.1:${await deadPort()}` }));
  }
  for (const fault of FAULTS) {
    for (const command of COMMANDS.filter((c) => fault.applies(c))) {
      const args = [...command.args(fault.pod ?? POD), '--kubeconfig', kubeconfigs.get(fault)!, '--timeout', fault.timeout ?? '5s'];
      cases.push({ fault, command, args });
    }
  }
});

after(async () => {
  for (const c of clusters.values()) await c.close();
});

/** What is wrong with one case's outcome, or undefined when it passed. */
function judge(k: Case, r: CliResult): string | undefined {
  if (r.code === null) return 'killed: the process did not end by itself';
  if (/\n\s+at |^\s+at /m.test(r.stderr)) return `stack trace on stderr: ${r.stderr}`;
  if (k.fault.pastApi && k.command.degrades) {
    if (r.code !== 0) return `exit ${r.code}, expected 0 with a WARNING in the result: ${JSON.stringify(r.stderr)}`;
    if (r.stderr !== '') return `unexpected stderr: ${JSON.stringify(r.stderr)}`;
    if (!k.command.degrades.test(r.stdout)) return `no WARNING naming what could not be read: ${JSON.stringify(r.stdout.slice(0, 400))}`;
    return undefined;
  }
  const want = k.fault.expect(k.command);
  if (k.fault.partial?.(k.command)) {
    if (r.code !== 0) return `exit ${r.code}, expected 0 with a warning: ${r.stderr}`;
    if (!want.test(r.stderr)) return `warning does not match ${want}: ${JSON.stringify(r.stderr)}`;
    if (r.stdout.trim() === '') return 'a partial result was expected on stdout, got nothing';
    return undefined;
  }
  if (r.code !== 1) return `exit ${r.code}, expected 1: ${JSON.stringify(r.stderr)}`;
  if (!isOneLineError(r.stderr) || !r.stderr.startsWith('Error: ')) return `not one "Error:" line: ${JSON.stringify(r.stderr)}`;
  if (!want.test(r.stderr)) return `error does not match ${want}: ${JSON.stringify(r.stderr)}`;
  return undefined;
}

test('live fault battery: every live command against every cluster fault', async (t) => {
  const results = await pool(cases, 3, async (k) => judge(k, await runCli(k.args, { timeoutMs: 20_000, env: { HOME: downDir.dir, KUBECONFIG: undefined } })));
  const failures = results.flatMap((why, i) => (why ? [`${cases[i].fault.name} / ${cases[i].command.name}: ${why}`] : []));
  t.diagnostic(`${cases.length} live fault cases (${FAULTS.length} faults x ${COMMANDS.length} commands where they apply), ${failures.length} failed`);
  process.stdout.write(`# live fault battery: ${cases.length} cases\n`);
  assert.ok(cases.length >= 100, `only ${cases.length} cases`);
  assert.deepEqual(failures, []);
});
