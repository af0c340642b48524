import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fixture, runCli, scratchDir } from '../helpers.js';
import { type FakeCluster, PRODUCTPAGE, startCluster } from '../harness/cluster.js';
import { MESH_DUMP } from './mesh-dump.js';

const BOOKINFO = fixture('bookinfo', 'productpage-config_dump.json');
const CLUSTERS = fixture('bookinfo', 'productpage-clusters.json');
const json = async (args: string[]) => {
  const r = await runCli([...args, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { steps: { stage: string; chosen: string | null; summary: string; matched: string[] }[]; result: Record<string, unknown> };
};

test('Bookinfo: productpage → reviews is split by weight; --random reproduces one choice', async () => {
  const undecided = await json(['trace', '-f', BOOKINFO, 'http://reviews:9080/reviews/0']);
  assert.equal(undecided.result.virtualHost, 'reviews.default.svc.cluster.local:9080');
  assert.equal(undecided.result.cluster, null);
  assert.equal((undecided.result.weightedClusters as unknown[]).length, 2);
  const a = await json(['trace', '-f', BOOKINFO, 'http://reviews:9080/reviews/0', '--random', '7']);
  const b = await json(['trace', '-f', BOOKINFO, 'http://reviews:9080/reviews/0', '--random', '7']);
  assert.ok(typeof a.result.cluster === 'string' && /^outbound\|9080\|v[13]\|reviews/.test(a.result.cluster as string));
  assert.deepEqual(a.result, b.result, 'the same random value gives the same answer');
  const vh = a.steps.find((s) => s.stage === 'virtualHost')!;
  assert.ok(vh.matched.some((m) => /port :9080 ignored \(ignore_port_in_host_matching\)/.test(m)));
});

test('Bookinfo: ratings with live endpoint health from /clusters', async () => {
  const r = await runCli(['trace', '-f', BOOKINFO, 'http://ratings:9080/ratings/0', '--clusters', CLUSTERS]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Route action\s+outbound\|9080\|\|ratings\.default\.svc\.cluster\.local/);
  assert.match(r.stdout, /can take traffic \(\/clusters of .*productpage-clusters\.json\)/);
});

test('Bookinfo inbound: virtualInbound matches its own 0.0.0.0_9080 mTLS chain and routes to inbound|9080||', async () => {
  const t = await json(['trace', '-f', BOOKINFO, 'http://productpage:9080/productpage', '--direction', 'inbound']);
  assert.equal(t.result.listener, 'virtualInbound');
  assert.equal(t.result.filterChain, '0.0.0.0_9080 (#5)');
  assert.equal(t.result.routeConfig, 'inbound|9080||');
  assert.equal(t.result.cluster, 'inbound|9080||');
  const l = t.steps.find((s) => s.stage === 'listener') as unknown as { notes?: string[] };
  assert.ok(!(l.notes ?? []).some((n) => /hands the connection/.test(n)), (l.notes ?? []).join('\n'));
});

test('a virtualInbound with use_original_dst (old Istio, or a bad EnvoyFilter) hands inbound traffic to an outbound listener, and says so', async (ctx) => {
  const dump = JSON.parse(readFileSync(BOOKINFO, 'utf8')) as { configs: { dynamic_listeners?: { active_state: { listener: Record<string, unknown> } }[] }[] };
  const inbound = dump.configs.flatMap((c) => c.dynamic_listeners ?? []).find((l) => l.active_state.listener.name === 'virtualInbound')!;
  inbound.active_state.listener.use_original_dst = true;
  const file = path.join(scratchDir('meshctl-handoff-', ctx), 'config_dump.json');
  writeFileSync(file, JSON.stringify(dump));
  const t = await json(['trace', '-f', file, 'http://productpage:9080/productpage', '--direction', 'inbound']);
  assert.equal(t.result.listener, '0.0.0.0_9080');
  const l = t.steps.find((s) => s.stage === 'listener') as unknown as { notes: string[] };
  assert.match(l.notes.join('\n'), /virtualInbound is INBOUND but hands the connection to 0\.0\.0\.0_9080, an OUTBOUND listener/);
});

test('--iptables FILE: the trace starts at the kernel', async () => {
  const rules = fixture('iptables', 'classic-sidecar.iptables-save.txt');
  const t = await json(['trace', '-f', MESH_DUMP, 'http://reviews:9080/', '--iptables', rules, '-H', 'end-user: jason']);
  assert.equal(t.result.captured, 'REDIRECT 15001');
  const ipt = t.steps.find((s) => s.stage === 'iptables')!;
  assert.ok(ipt.matched.some((m) => /ISTIO_REDIRECT.*REDIRECT --to-ports 15001/.test(m)), ipt.matched.join('\n'));
  assert.ok(!(t.result.uncertain as string[]).some((u) => /iptables rules not given/.test(u)));
  // traffic from the proxy itself (uid 1337) is not captured in these rules: nothing else runs
  const inbound = await json(['trace', '-f', MESH_DUMP, 'http://productpage:9080/', '--iptables', rules, '--direction', 'inbound']);
  assert.equal(inbound.result.captured, 'REDIRECT 15006');
  assert.equal(inbound.result.listener, 'virtualInbound');
});

describe('live: meshctl trace <pod> through the API-server stand-in', () => {
  let c: FakeCluster;
  before(async () => (c = await startCluster()));
  after(async () => c.close());

  test('the pod\'s /config_dump and /clusters are read through a port-forward', async () => {
    const r = await runCli(['trace', `${PRODUCTPAGE}.default`, 'http://ratings:9080/ratings/0', '--kubeconfig', c.kubeconfig, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    assert.equal(t.result.listener, '0.0.0.0_9080');
    assert.equal(t.result.routeConfig, '9080');
    assert.match(String(t.result.cluster), /^outbound\|9080\|.*\|ratings\.default\.svc\.cluster\.local$/);
    const calls = c.envoys.get(PRODUCTPAGE)!.requests;
    assert.ok(calls.includes('GET /config_dump?include_eds'), calls.join(', '));
    assert.ok(calls.includes('GET /clusters?format=json'), calls.join(', '));
  });

  test('a missing pod is one line on stderr', async () => {
    const r = await runCli(['trace', 'nope-123.default', 'http://ratings:9080/', '--kubeconfig', c.kubeconfig]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /nope-123/);
  });
});
