import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { configGraph } from '../../src/diagram/config-graph.js';
import { layoutGraph } from '../../src/diagram/layout.js';
import { traceGraph } from '../../src/diagram/trace-graph.js';
import { parseConfigDump } from '../../src/envoy/index.js';
import { buildOverview } from '../../src/report/overview.js';
import { worldFromConfigDump } from '../../src/trace/dump-world.js';
import { traceRequest } from '../../src/trace/trace.js';
import { hostileDump } from '../diagram/util.js';
import { bookinfoArgs } from './args.js';
import { type FakeCluster, PRODUCTPAGE, REVIEWS_V1, startCluster } from '../harness/cluster.js';
import { fixture, isOneLineError, runCli } from '../helpers.js';
import { generate } from '../../bench/lib/generate.js';

const BOOKINFO = fixture('bookinfo', 'productpage-config_dump.json');
let dir: string;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-report-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));


test('report from saved files: overview, proxy status, findings, the pod with its tables and the traced path', async () => {
  const out = path.join(dir, 'bookinfo.html');
  const r = await runCli(bookinfoArgs(out));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^wrote .*bookinfo\.html: 1 pod, \d+ workloads, \d+ findings\n$/);
  const html = readFileSync(out, 'utf8');
  assert.match(html, /^<!DOCTYPE html>/);
  // one page, nothing loaded from anywhere: a strict CSP, no src/href to a URL, one inline script
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;sha256-[^"]+; script-src &#39;sha256-/);
  assert.doesNotMatch(html, /\s(src|href)="(?!#)/);
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.doesNotMatch(html, /\sstyle="/, 'no inline style attribute (the CSP would refuse it)');
  // overview and proxy status
  assert.match(html, /<td>default<\/td><td>sidecar injection<\/td>/);
  assert.match(html, /<td>productpage-v1<\/td><td>Deployment<\/td>/);
  assert.match(html, /<td>reviews-v1-545db77b95-ksq7f\.default<\/td><td>Kubernetes<\/td><td class="ok">SYNCED<\/td>/);
  // findings from the manifests
  assert.match(html, /<td class="lvl-Error">Error<\/td><td>IST0101<\/td>/);
  // the pod: facts, the trace's result, the diagram with the path, the tables
  assert.match(html, /<h2>productpage-v1-7d4b8d9b7c-x2x9z\.default<\/h2>/);
  assert.match(html, /<tr><td>cluster<\/td><td>outbound\|9080\|v2\|reviews\.default\.svc\.cluster\.local<\/td><\/tr>/);
  const svg = /<svg [^>]*class="traffic"[\s\S]*?<\/svg>/.exec(html)![0];
  assert.match(svg, /<g class="node kind-route on-path"/);
  assert.match(svg, /<g class="node kind-cluster on-path"[^>]*>\n<title>cluster: outbound\|9080\|v2\|reviews/);
  assert.ok((svg.match(/class="edge on-path"/g) ?? []).length >= 6);
  for (const t of ['Listeners', 'Routes', 'Clusters', 'Endpoints', 'Secrets']) assert.match(html, new RegExp(`<summary>${t}[^<]*<span class="count">\\(\\d+\\)`));
});

test('report --trace --direction inbound: the RBAC filter that denies and the 403 in the diagram', async () => {
  const out = path.join(dir, 'deny.html');
  const r = await runCli(['report', '-f', fixture('authz', 'deny-all-config_dump.json'), '--trace', 'http://httpbin:8000/get', '--direction', 'inbound', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const html = readFileSync(out, 'utf8');
  assert.match(html, /<tr><td>authorization<\/td><td>DENY by foo\/deny-all: foo\/deny-all rule 0 matches: DENY policy denies the request<\/td><\/tr>/);
  const svg = /<svg [^>]*class="traffic"[\s\S]*?<\/svg>/.exec(html)![0];
  assert.match(svg, /<g class="node kind-authz on-path bad"[^>]*>\n<title>authorization: RBAC DENY\ndenied by foo\/deny-all rule 0/);
  assert.match(svg, /<g class="node kind-outcome on-path bad"[^>]*>\n<title>outcome: 403\nRBAC: access denied/);
  // the path's last edge runs from the RBAC filter into the 403
  const laid = layoutGraph(configGraph(parseConfigDump(JSON.parse(readFileSync(fixture('authz', 'deny-all-config_dump.json'), 'utf8')), 'x'), 'x', {
    path: traceGraph(traceRequest(worldFromConfigDump(parseConfigDump(JSON.parse(readFileSync(fixture('authz', 'deny-all-config_dump.json'), 'utf8')), 'x')), { target: 'http://httpbin:8000/get', direction: 'inbound' })),
  }));
  const into403 = laid.edges.find((e) => e.edge.to === 'outcome:403')!;
  assert.ok(into403.edge.onPath);
  assert.equal(into403.edge.from, 'authz:http/0/envoy.filters.http.rbac');
  const box = (id: string) => laid.nodes.find((n) => n.node.id === id)!;
  assert.ok(box('outcome:403').x > box('authz:http/0/envoy.filters.http.rbac').x, 'the 403 stands right of the filter');
});

test('names from dumps and manifests are escaped everywhere: no markup, no script gets in', async () => {
  const h = hostileDump();
  const dump = path.join(dir, 'evil-dump.json');
  writeFileSync(dump, h.text);
  const manifests = path.join(dir, 'evil.yaml');
  writeFileSync(
    manifests,
    [
      'apiVersion: networking.istio.io/v1',
      'kind: VirtualService',
      'metadata: {name: "x<img src=x onerror=alert(1)>", namespace: "ns\\"><script>alert(2)</script>"}',
      'spec: {hosts: ["</td></tr></table><script>alert(3)</script>"], http: [{route: [{destination: {host: "<svg/onload=alert(4)>"}}]}]}',
      '---',
      'apiVersion: v1',
      'kind: Pod',
      'metadata: {name: "</title><script>alert(5)</script>", namespace: default}',
      'spec: {containers: [{name: istio-proxy, image: "proxyv2:1.24.0<b>"}]}',
    ].join('\n'),
  );
  const out = path.join(dir, 'evil.html');
  const r = await runCli(['report', '-f', dump, '--files', manifests, '--trace', 'http://reviews:9080/', '-H', 'end-user: jason', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const html = readFileSync(out, 'utf8');
  assert.equal((html.match(/<script/gi) ?? []).length, 1, 'only the page\'s own script');
  for (const bad of ['<img', '<svg/onload', '<b>', '</title><script']) assert.ok(!html.includes(bad), bad);
  assert.ok(html.includes('x&lt;img src=x onerror=alert(1)&gt;'));
  assert.ok(html.includes('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;'), 'the hostile cluster name is there as text');
  assert.ok(html.includes(h.routeConfig.replace(/"/g, '&quot;')));
});

test('a real sidecar (hundreds of clusters): grouped into a drawing that stays readable', () => {
  const gen = generate({ services: 300, out: path.join(dir, 'mesh300'), resources: false });
  const dump = parseConfigDump(JSON.parse(readFileSync(gen.files.configDump, 'utf8')), 'big');
  const world = worldFromConfigDump(dump);
  const trace = traceRequest(world, { target: gen.trace[0].url });
  const g = configGraph(dump, 'big', { path: traceGraph(trace), endpoints: (n) => world.endpoints(n) });
  assert.ok(gen.counts.clusters > 800);
  assert.ok(g.nodes.length <= 120, `${g.nodes.length} nodes`);
  assert.ok(g.edges.length <= 150, `${g.edges.length} edges`);
  assert.ok(g.nodes.some((n) => n.count !== undefined && n.kind === 'cluster'), 'clusters grouped');
  // the traced cluster stays itself, on the path, with its endpoints
  assert.ok(g.nodes.some((n) => n.id === `cluster:${gen.trace[0].cluster}` && n.onPath));
  assert.ok(g.nodes.some((n) => n.id === `endpoints:${gen.trace[0].cluster}` && n.onPath));
  assert.match(g.notes.join('\n'), /grouped/);
  const layout = layoutGraph(g);
  // natural size: text at 9-11 px stays readable; nothing overlaps
  assert.ok(layout.width < 6000 && layout.height < 6000, `${layout.width}x${layout.height}`);
  for (let i = 0; i < layout.nodes.length; i++) {
    for (let j = i + 1; j < layout.nodes.length; j++) {
      const a = layout.nodes[i];
      const b = layout.nodes[j];
      const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
      assert.ok(!overlap, `${a.node.id} overlaps ${b.node.id}`);
    }
  }
  // every kind in its own column, in the request's order
  const xOf = (kind: string) => layout.nodes.filter((n) => n.node.kind === kind).map((n) => n.x);
  assert.ok(Math.max(...xOf('listener')) < Math.min(...xOf('routeConfig')));
  assert.ok(Math.max(...xOf('routeConfig')) < Math.min(...xOf('cluster')));
  assert.ok(Math.max(...xOf('cluster')) < Math.min(...xOf('endpoints')));
});

test('overview: workloads from owners, data plane per pod, worst sync state', () => {
  const pod = (name: string, labels: Record<string, string>, containers: string[], owner?: string) => ({
    apiVersion: 'v1', kind: 'Pod', group: '', version: 'v1', name, namespace: 'shop', metadata: { name, namespace: 'shop', labels },
    object: {
      metadata: { name, namespace: 'shop', labels, ...(owner ? { ownerReferences: [{ kind: 'ReplicaSet', name: owner, controller: true }] } : {}) },
      spec: { containers: containers.map((c) => ({ name: c, image: c === 'istio-proxy' ? 'docker.io/istio/proxyv2:1.25.1' : 'app:1' })) },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    },
  });
  const ns = { apiVersion: 'v1', kind: 'Namespace', group: '', version: 'v1', name: 'shop', namespace: '', metadata: { name: 'shop' }, object: { metadata: { name: 'shop', labels: { 'istio.io/dataplane-mode': 'ambient' } } } };
  const o = buildOverview({
    resources: [
      ns,
      pod('web-6d4f8b7c9-abcde', { 'pod-template-hash': '6d4f8b7c9' }, ['app', 'istio-proxy'], 'web-6d4f8b7c9'),
      pod('web-6d4f8b7c9-fghij', { 'pod-template-hash': '6d4f8b7c9' }, ['app', 'istio-proxy'], 'web-6d4f8b7c9'),
      pod('cart-0', {}, ['app']),
      pod('batch-1', { 'istio.io/dataplane-mode': 'none' }, ['app']),
    ],
    syncz: [{ istiod: 'istiod-a', statuses: [
      { proxy: 'web-6d4f8b7c9-abcde.shop', cluster_sent: 'a', cluster_acked: 'a', listener_sent: 'b', listener_acked: 'b' },
      { proxy: 'web-6d4f8b7c9-fghij.shop', cluster_sent: 'a', cluster_acked: 'x', listener_sent: 'b', listener_acked: 'b' },
    ] }],
    dumps: [],
  });
  assert.deepEqual(o.namespaces, [{ name: 'shop', mode: 'ambient', workloads: 3, pods: 4 }]);
  const web = o.workloads.find((w) => w.name === 'web')!;
  assert.deepEqual({ kind: web.kind, pods: web.pods, ready: web.ready, dataPlane: web.dataPlane, version: web.version, sync: web.sync }, { kind: 'Deployment', pods: 2, ready: 2, dataPlane: 'sidecar', version: '1.25.1', sync: 'STALE' });
  assert.equal(o.workloads.find((w) => w.name === 'cart-0')!.dataPlane, 'ambient');
  assert.equal(o.workloads.find((w) => w.name === 'batch-1')!.dataPlane, 'none');
});

test('bad input is one line on stderr', async () => {
  const noOut = await runCli(['report', '-f', BOOKINFO]);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /required option '-o, --output <file>'/);
  const notDump = path.join(dir, 'not-a-dump.json');
  writeFileSync(notDump, '{"hello": 1}');
  for (const args of [
    ['-f', notDump],
    ['-f', path.join(dir, 'missing.json')],
    ['-f', fixture('live', 'productpage-clusters.json')],
    ['--bundle', path.join(dir, 'b.tgz')],
    ['-f', BOOKINFO, 'no-such-pod'],
    ['-f', BOOKINFO, '--trace', 'ftp://x/'],
  ]) {
    const r = await runCli(['report', ...args, '-o', path.join(dir, 'x.html')]);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.ok(isOneLineError(r.stderr), `${args.join(' ')}: ${r.stderr}`);
  }
});

let c: FakeCluster | undefined;
after(async () => c?.close());

test('report live through the API-server stand-in: every sidecar pod, istiod sync state, cluster findings', async () => {
  c = await startCluster();
  const out = path.join(dir, 'live.html');
  const r = await runCli(['report', '-n', 'default', '--kubeconfig', c.kubeconfig, '--trace', 'http://reviews:9080/', '-o', out], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const html = readFileSync(out, 'utf8');
  // the sidecar pods that run (the pending one and the one without a proxy are left out)
  const sections = [...html.matchAll(/<section id="pod-\d+" class="pod"><h2>([^<]+)<\/h2>/g)].map((m) => m[1]);
  assert.ok(sections.includes(`${PRODUCTPAGE}.default`) && sections.includes(`${REVIEWS_V1}.default`), sections.join());
  assert.ok(!sections.some((s) => s.startsWith('details-v1')));
  assert.match(html, /<td>default<\/td><td>productpage-v1<\/td><td>Deployment<\/td><td>1\/1<\/td><td>sidecar<\/td><td>1\.24\.0<\/td>/);
  assert.match(html, /<td>details-v1[^<]*<\/td><td>(Deployment|Pod)<\/td><td>[01]\/1<\/td><td>none<\/td>/);
  assert.match(html, /istiod-7c9d8b6f5-abcde/);
  assert.match(html, /Endpoints \(live health from \/clusters\)/);
  assert.ok(c.api.requests.includes(`WS /api/v1/namespaces/default/pods/${PRODUCTPAGE}/portforward?ports=15000`));
  assert.ok(c.envoys.get(PRODUCTPAGE)!.requests.includes('GET /config_dump?include_eds'));

  // one named pod that does not exist: a clear error
  const missing = await runCli(['report', 'productpage-v9', '-n', 'default', '--kubeconfig', c.kubeconfig, '-o', path.join(dir, 'y.html')]);
  assert.equal(missing.code, 1);
  assert.ok(isOneLineError(missing.stderr), missing.stderr);
  assert.match(missing.stderr, /productpage-v9/);
});
