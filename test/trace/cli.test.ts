import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isOneLineError, runCli, scratchDir } from '../helpers.js';
import { MESH_DUMP } from './mesh-dump.js';

const tmp = scratchDir('meshctl-trace-');

test('meshctl trace -f: the human trace names every step and the nearest losers', async () => {
  const r = await runCli(['trace', '-f', MESH_DUMP, 'http://reviews:9080/api/v1', '--random', '10']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Trace of GET http:\/\/reviews:9080\/api\/v1 \(outbound\)/);
  assert.match(r.stdout, / 3\. Listener\s+0\.0\.0\.0_9080/);
  assert.match(r.stdout, / 8\. Route\s+2 \(split\)/);
  assert.match(r.stdout, /✗ route 1 \(api-v2\) `prefix \/api\/v2`: prefix \/api\/v2 does not match path "\/api\/v1"/);
  assert.match(r.stdout, /cluster\s+outbound\|9080\|v1\|reviews\.default\.svc\.cluster\.local/);
  assert.match(r.stdout, /endpoints\s+10\.244\.1\.5:9080 \(HEALTHY\)/);
  assert.equal(r.stderr, '');
});

test('-o json is {steps, result} with the contract keys; -o yaml parses the same', async () => {
  const r = await runCli(['trace', '-f', MESH_DUMP, 'http://reviews:9080/', '-H', 'end-user: jason', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.ok(Array.isArray(j.steps));
  assert.equal(j.result.route, 'jason');
  assert.equal(j.result.cluster, 'outbound|9080|v2|reviews.default.svc.cluster.local');
  assert.equal(j.result.redirect, null);
  const y = await runCli(['trace', '-f', MESH_DUMP, 'http://reviews:9080/', '-H', 'end-user: jason', '-o', 'yaml']);
  assert.equal(y.code, 0, y.stderr);
  assert.match(y.stdout, /^steps:/m);
  assert.match(y.stdout, /route: jason/);
});

test('--all-candidates lists every virtual host considered', async () => {
  const few = await runCli(['trace', '-f', MESH_DUMP, 'http://details:9080/', '-o', 'json']);
  const all = await runCli(['trace', '-f', MESH_DUMP, 'http://details:9080/', '-o', 'json', '--all-candidates']);
  const vh = (s: string) => JSON.parse(s).steps.find((x: { stage: string }) => x.stage === 'virtualHost').losers.length;
  assert.equal(vh(few.stdout), 1);
  assert.equal(vh(all.stdout), 6, "every other virtual host of route configuration 9080");
});

test('reads the dump from stdin with -f -', async () => {
  const { readFileSync } = await import('node:fs');
  const r = await runCli(['trace', '-f', '-', 'mysql:3306', '-o', 'json'], { stdin: readFileSync(MESH_DUMP, 'utf8') });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).result.listener, '10.96.0.40_3306');
});

test('bad input: one line on stderr, non-zero exit', async () => {
  const notDump = path.join(tmp, 'x.json');
  writeFileSync(notDump, '{"hello": 1}');
  const cases: [string[], RegExp, number][] = [
    [['trace', '-f', notDump, 'http://a:1/'], /x\.json: not an Envoy config dump/, 1],
    [['trace', '-f', path.join(tmp, 'missing.json'), 'http://a:1/'], /missing\.json: no such file/, 1],
    [['trace', '-f', MESH_DUMP, 'ftp://a/'], /unsupported scheme ftp/, 2],
    [['trace', '-f', MESH_DUMP, 'http://a:1/', '-H', 'nocolon'], /header "nocolon" is not "name: value"/, 2],
    [['trace', '-f', MESH_DUMP, 'a', 'b'], /with -f give only the target/, 2],
    [['trace', '-f', MESH_DUMP, 'http://a:1/', '--clusters', notDump], /x\.json: not Envoy \/clusters\?format=json output/, 1],
    [['trace', '-f', MESH_DUMP, 'http://a:1/', '--iptables', notDump], /x\.json/, 1],
    [['trace', '-f', MESH_DUMP, 'http://a:1/', '--direction', 'sideways'], /sideways/, 2],
  ];
  for (const [args, re, code] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.ok(isOneLineError(r.stderr), r.stderr);
  }
  const badRandom = await runCli(['trace', '-f', MESH_DUMP, 'http://a:1/', '--random', '-3']);
  assert.equal(badRandom.code, 2);
});
