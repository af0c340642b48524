import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import { fromDot } from 'ts-graphviz';
import { renderDot } from '../../src/diagram/dot.js';
import { renderMermaid } from '../../src/diagram/mermaid.js';
import { traceGraph } from '../../src/diagram/trace-graph.js';
import { fixture, runCli } from '../helpers.js';
import { BOOKINFO, hostileDump, pathOf, traceOf } from './util.js';




test('the traced path, step by step, ends at the endpoints of the chosen cluster', () => {
  const t = traceOf(readFileSync(BOOKINFO, 'utf8'), { target: 'http://reviews:9080/api/v1', headers: [['end-user', 'jason']] });
  const g = traceGraph(t, 'dump.json');
  assert.deepEqual(pathOf(g), [
    'request:trace',
    'listener:virtualOutbound',
    'listener:0.0.0.0_9080',
    'filterChain:0.0.0.0_9080/0.0.0.0_9080',
    'routeConfig:9080',
    'virtualHost:9080/reviews.default.svc.cluster.local:9080',
    'route:9080/reviews.default.svc.cluster.local:9080/0 (jason)',
    'cluster:outbound|9080|v2|reviews.default.svc.cluster.local',
    'endpoints:outbound|9080|v2|reviews.default.svc.cluster.local',
  ]);
  assert.ok(g.nodes.filter((n) => n.onPath).length === 9);
  const eps = g.nodes.find((n) => n.kind === 'endpoints')!;
  assert.deepEqual(eps.details, ['10.244.0.14:9080 HEALTHY']);
  // the catch-all virtual host lost, and says why
  const lost = g.nodes.find((n) => n.id === 'virtualHost:9080/allow_any')!;
  assert.match(lost.lost!, /catch-all/);
  assert.ok(g.edges.some((e) => e.to === lost.id && e.lost && !e.onPath));
});

test('weighted clusters without --random: every candidate with its weight, none on the path', () => {
  const text = readFileSync(BOOKINFO, 'utf8');
  const g = traceGraph(traceOf(text, { target: 'http://reviews:9080/api/v1' }));
  const path = pathOf(g);
  assert.equal(path.at(-1), 'route:9080/reviews.default.svc.cluster.local:9080/1 (split)');
  const weighted = g.edges.filter((e) => e.from === path.at(-1));
  assert.deepEqual(weighted.map((e) => e.label), ['weight 50 (50%)', 'weight 50 (50%)']);
  assert.ok(weighted.every((e) => !e.onPath));
  assert.match(g.notes.join(), /--random/);
  const route0 = g.nodes.find((n) => n.label === '0 (jason)')!;
  assert.match(route0.lost!, /end-user/);
  assert.deepEqual(route0.details, ['prefix /']);

  // with --random the same route picks one, which leads on to its endpoints
  const picked = traceGraph(traceOf(text, { target: 'http://reviews:9080/api/v1', random: 77 }));
  const p = pathOf(picked);
  assert.match(p.at(-2)!, /^cluster:outbound\|9080\|v[13]\|reviews/);
  assert.match(p.at(-1)!, /^endpoints:/);
});

test('where the request stops is an outcome node: a TCP passthrough, an unknown cluster', () => {
  const text = readFileSync(BOOKINFO, 'utf8');
  const tcp = pathOf(traceGraph(traceOf(text, { target: 'mysql:3306' })));
  assert.deepEqual(tcp.slice(2), ['filterChain:virtualOutbound/virtualOutbound-catchall-tcp', 'cluster:PassthroughCluster', 'endpoints:PassthroughCluster']);

  const dump = JSON.parse(text);
  // drop the v2 cluster: the route still names it, Envoy answers 503 NC
  for (const c of dump.configs) {
    if (Array.isArray(c.dynamic_active_clusters)) c.dynamic_active_clusters = c.dynamic_active_clusters.filter((x: { cluster: { name: string } }) => !x.cluster.name.startsWith('outbound|9080|v2|reviews'));
  }
  const g = traceGraph(traceOf(JSON.stringify(dump), { target: 'http://reviews:9080/', headers: [['end-user', 'jason']] }));
  const path = pathOf(g);
  assert.equal(path.at(-1), 'outcome:503 (NC)');
  assert.equal(g.nodes.find((n) => n.id === path.at(-2))!.status, 'bad');
});


test('DOT output parses with a real DOT parser and keeps hostile names as text', () => {
  const h = hostileDump();
  const t = traceOf(h.text, { target: 'http://reviews:9080/', headers: [['end-user', 'jason']], dstIp: '10.96.201.5' });
  const g = traceGraph(t, 'evil "file".json');
  assert.ok(g.nodes.some((n) => n.id === `cluster:${h.cluster}`), 'the hostile cluster is on the path');
  const dot = renderDot(g);
  const model = fromDot(dot);
  assert.equal(model.nodes.length, g.nodes.length);
  assert.equal(model.edges.length, g.edges.length);
  const labels = model.nodes.map((n) => String(n.attributes.get('label')));
  // the label comes back as written (the parser leaves DOT's escapes \\ and \n as they are)
  assert.ok(labels.some((l) => l.includes(h.cluster.replace(/\\/g, '\\\\').replace(/\n/g, '\\n'))), labels.join('\n'));
  assert.ok(labels.some((l) => l.includes(h.routeConfig)));
  assert.ok(!model.nodes.some((n) => n.id === 'evil'));
  // the path edges are the accent colour
  assert.equal(model.edges.filter((e) => e.attributes.get('color') === '#d9480f').length, g.edges.filter((e) => e.onPath).length);
});

test('Mermaid output: generated ids, entity-coded labels, styled path', () => {
  const h = hostileDump();
  const g = traceGraph(traceOf(h.text, { target: 'http://reviews:9080/', headers: [['end-user', 'jason']], dstIp: '10.96.201.5' }));
  const mmd = renderMermaid(g);
  const lines = mmd.trimEnd().split('\n');
  assert.equal(lines[0], 'flowchart LR');
  for (const line of lines.slice(1)) {
    const bare = line.replace(/<\/?(b|small)>|<br\/>/g, '');
    if (/^ {2}n\d+\[/.test(line)) assert.match(bare, /^ {2}n\d+\["[^"<>|\n\\`]*"\]$/, line);
    else if (/^ {2}n\d+ /.test(line)) assert.match(line, /^ {2}n\d+ (-->|==>|-\.->)(\|"[^"<>|]*"\|)? n\d+$/, line);
    else assert.match(line, /^ {2}(classDef|class|linkStyle|%%) /, line);
  }
  assert.ok(mmd.includes('outbound#124;9080#124;v2#124;rev#34;iews#92;N#60;/script#62;'));
  const pathLinks = g.edges.filter((e) => e.onPath).length;
  assert.equal((mmd.match(/==>/g) ?? []).length, pathLinks);
});

test('meshctl trace -o dot|mermaid on the command line', async () => {
  const dot = await runCli(['trace', '-f', BOOKINFO, 'http://reviews:9080/api/v1', '-H', 'end-user: jason', '-o', 'dot']);
  assert.equal(dot.code, 0, dot.stderr);
  assert.equal(fromDot(dot.stdout).nodes.length > 5, true);
  const mmd = await runCli(['trace', '-f', BOOKINFO, 'http://reviews:9080/api/v1', '-o', 'mermaid']);
  assert.equal(mmd.code, 0, mmd.stderr);
  assert.match(mmd.stdout, /^flowchart LR\n/);
  const bad = await runCli(['trace', '-f', BOOKINFO, 'http://reviews:9080/', '-o', 'svg']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid.*dot, mermaid/);
});

const AUTHZ = (name: string) => fixture('authz', `${name}-config_dump.json`);

test('authorization: each RBAC / ext_authz filter is a node with its decision; a denial ends in 403', () => {
  const denied = traceGraph(traceOf(readFileSync(AUTHZ('deny-all'), 'utf8'), { target: 'http://httpbin:8000/get', direction: 'inbound' }));
  const path = pathOf(denied);
  // before: the drawing ended at the route, with no sign of the 403
  assert.deepEqual(path.slice(-3), ['route:inbound|8000||/inbound|http|8000/0 (default)', 'authz:http/0/envoy.filters.http.rbac', 'outcome:403']);
  const rbac = denied.nodes.find((n) => n.id === path.at(-2))!;
  assert.equal(rbac.kind, 'authz');
  assert.equal(rbac.label, 'RBAC DENY');
  assert.equal(rbac.status, 'bad');
  assert.equal(rbac.details[0], 'denied by foo/deny-all rule 0');
  const end = denied.nodes.find((n) => n.id === 'outcome:403')!;
  assert.deepEqual(end.details, ['RBAC: access denied']);
  assert.equal(denied.edges.find((e) => e.to === 'outcome:403')!.label, 'denied');
  assert.ok(!denied.nodes.some((n) => n.kind === 'cluster'), 'nothing after the denial');

  // allowed: every filter in chain order, then on to the cluster
  const allowed = traceGraph(
    traceOf(readFileSync(AUTHZ('httpbin'), 'utf8'), { target: 'http://httpbin:8000/get', direction: 'inbound', srcIp: '10.244.0.5', identity: { principal: 'spiffe://cluster.local/ns/foo/sa/sleep' } }),
  );
  const steps = pathOf(allowed).map((id) => allowed.nodes.find((n) => n.id === id)!);
  const authz = steps.filter((n) => n.kind === 'authz');
  assert.deepEqual(
    authz.map((n) => n.label),
    ['RBAC (dry-run only)', 'ext_authz (CUSTOM)', 'RBAC LOG', 'RBAC DENY', 'RBAC ALLOW'],
  );
  assert.equal(authz.at(-1)!.details[0], 'allowed by foo/httpbin rule 0');
  assert.ok(authz.every((n) => n.status === undefined));
  assert.equal(steps[steps.indexOf(authz.at(-1)!) + 1].kind, 'cluster');

  // without the principal the ALLOW filter cannot decide: drawn as undecided, and the path goes on
  const open = traceGraph(traceOf(readFileSync(AUTHZ('httpbin'), 'utf8'), { target: 'http://httpbin:8000/get', direction: 'inbound' }));
  const allow = open.nodes.find((n) => n.kind === 'authz' && n.label === 'RBAC ALLOW')!;
  assert.equal(allow.status, 'warn');
  assert.match(allow.details[0], /^undecided: /);
});

test('authorization: network RBAC denying a TCP connection ends in "connection closed"', () => {
  const g = traceGraph(traceOf(readFileSync(AUTHZ('deny-all'), 'utf8'), { target: 'tcp://httpbin:9000', direction: 'inbound' }));
  const path = pathOf(g);
  assert.deepEqual(path.slice(-3), ['filterChain:virtualInbound/0.0.0.0_9000 (#2)', 'authz:network/0/envoy.filters.network.rbac', 'outcome:connection closed']);
  assert.equal(g.nodes.find((n) => n.id === path.at(-2))!.label, 'network RBAC DENY');
  assert.deepEqual(g.nodes.find((n) => n.id === path.at(-1))!.details, ['network RBAC denied the connection']);
});

test('authorization in DOT and Mermaid: the filter and the 403 on the drawn path', async () => {
  const args = ['trace', '-f', AUTHZ('deny-all'), 'http://httpbin:8000/get', '--direction', 'inbound'];
  const dot = await runCli([...args, '-o', 'dot']);
  assert.equal(dot.code, 0, dot.stderr);
  const model = fromDot(dot.stdout);
  const byLabel = (re: RegExp) => model.nodes.find((n) => re.test(String(n.attributes.get('label'))));
  const rbac = byLabel(/^AUTHORIZATION\\nRBAC DENY\\ndenied by foo\/deny-all rule 0/)!;
  const end = byLabel(/^OUTCOME\\n403\\nRBAC: access denied/)!;
  assert.ok(rbac && end, dot.stdout);
  const edge = model.edges.find((e) => e.targets.map((t) => ('id' in t ? t.id : '')).join() === [rbac.id, end.id].join());
  assert.ok(edge, 'an edge from the RBAC filter to the 403');
  assert.equal(edge!.attributes.get('color'), '#d9480f');
  assert.equal(edge!.attributes.get('label'), 'denied');

  const mmd = await runCli([...args, '-o', 'mermaid']);
  assert.equal(mmd.code, 0, mmd.stderr);
  const id = (re: RegExp) => /^ {2}(n\d+)\[/.exec(mmd.stdout.split('\n').find((l) => re.test(l)) ?? '')?.[1];
  const a = id(/<b>AUTHORIZATION<\/b><br\/>RBAC DENY<br\/><small>denied by foo\/deny-all rule 0<\/small>/);
  const o = id(/<b>OUTCOME<\/b><br\/>403<br\/><small>RBAC: access denied<\/small>/);
  assert.ok(a && o, mmd.stdout);
  assert.match(mmd.stdout, new RegExp(`\\n {2}${a} ==>\\|"denied"\\| ${o}\\n`));
});
