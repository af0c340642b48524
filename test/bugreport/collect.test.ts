/**
 * bug-report against the stand-in: limits end collection cleanly with a valid partial bundle, failures
 * are recorded and replayed, nothing is written when nothing could be collected, the output appears
 * atomically (no temporary file left), progress stays out of pipes, and private keys never land in a bundle.
 */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openBundle } from '../../src/source/bundle/reader.js';
import { type FakeCluster, PRODUCTPAGE, REVIEWS_V1, startCluster } from '../harness/cluster.js';
import { ROOT, isOneLineError, runCli } from '../helpers.js';

const PP = `${PRODUCTPAGE}.default`;
let dir: string;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-bugreport-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('limits and partial bundles', () => {
  let c: FakeCluster;
  before(async () => {
    // productpage's Envoy never answers /server_info: collection hangs there until a limit ends it
    c = await startCluster({ envoyHang: ['/server_info'] });
  });
  after(async () => c.close());

  test('--timeout ends collection; the bundle holds what came, and says what is missing', async () => {
    const out = path.join(dir, 'timed.tar.gz');
    const r = await runCli(['bug-report', '-n', 'default', '-o', out, '--kubeconfig', c.kubeconfig, '--timeout', '3s', '--request-timeout', '5m', '--concurrency', '2'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^warning: collection stopped early: the time limit \(--timeout 3s\) was reached; the bundle is partial/m);
    const b = await openBundle(out);
    assert.equal(b.index.complete, false);
    assert.match(b.index.stopped ?? '', /time limit/);
    assert.ok(b.index.calls.some((x) => x.call === 'get' && x.path === '/server_info' && x.error?.type === 'stopped'), 'the cut request is recorded as stopped');
    // what did arrive reads back
    const pc = await runCli(['proxy-config', 'clusters', PP, '--bundle', out]);
    assert.equal(pc.code, 0, pc.stderr);
    // and what did not is said, with why
    const si = await b.readText('index.json').catch(() => undefined);
    assert.equal(si, undefined, 'index.json is not itself a listed member');
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('partial')), [], 'a temporary file was left');
  });

  test('--max-size ends collection before the limit is passed', async () => {
    const out = path.join(dir, 'small.tar.gz');
    // room for every resource list (and the index's estimate of them), not for the proxies' dumps
    const r = await runCli(['bug-report', '-A', '-o', out, '--kubeconfig', c.kubeconfig, '--max-size', '32KB', '--no-include-istiod'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /collection stopped early: the size limit \(--max-size 32000 bytes\) was reached/);
    assert.ok(statSync(out).size <= 32_000, `${statSync(out).size} bytes`);
    const b = await openBundle(out);
    assert.equal(b.index.complete, false);
    assert.ok(b.index.pods.skipped.some((s) => /size limit/.test(s.reason)), JSON.stringify(b.index.pods.skipped));
    // the resources came first, and read back
    const ps = await runCli(['proxy-config', 'clusters', 'nope.default', '--bundle', out]);
    assert.match(ps.stderr, /pod nope not found in namespace default/);
  });
});

describe('failures are recorded, and a bundle is only written when something was collected', () => {
  test('refused port-forward and exec: the bundle replays the 403s', async () => {
    const c = await startCluster({ deny: [{ verb: 'create', resource: 'pods/portforward' }, { verb: 'create', resource: 'pods/exec' }] });
    try {
      const out = path.join(dir, 'denied.tar.gz');
      const r = await runCli(['bug-report', '-o', out, '--kubeconfig', c.kubeconfig, '--no-include-istiod']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^warning: \d+ failures, 1 pod skipped \(first: .*forbidden \(403\)/m);
      const [live, fromBundle] = await Promise.all([
        runCli(['proxy-config', 'clusters', PP, '--kubeconfig', c.kubeconfig]),
        runCli(['proxy-config', 'clusters', PP, '--bundle', out]),
      ]);
      assert.equal(live.code, 1);
      assert.deepEqual(fromBundle, live);
      assert.match(live.stderr, /may neither port-forward to nor exec in pod/);
    } finally {
      await c.close();
    }
  });

  test('API server down: one line, exit 1, and no file at all', async () => {
    const c = await startCluster();
    const kubeconfig = path.join(dir, 'down-kubeconfig');
    writeFileSync(kubeconfig, readFileSync(c.kubeconfig, 'utf8'));
    await c.close();
    const out = path.join(dir, 'down', 'b.tar.gz');
    const sub = path.dirname(out);
    rmSync(sub, { recursive: true, force: true });
    await import('node:fs').then((fs) => fs.mkdirSync(sub));
    const r = await runCli(['bug-report', '-o', out, '--kubeconfig', kubeconfig, '--request-timeout', '5s']);
    assert.equal(r.code, 1);
    assert.ok(isOneLineError(r.stderr), r.stderr);
    assert.match(r.stderr, /^Error: nothing could be collected, no bundle written: cannot reach the API server at http:\/\/127\.0\.0\.1:\d+: connection refused/);
    assert.deepEqual(readdirSync(sub), []);
  });

  test('usage mistakes are refused before any request', async () => {
    for (const [args, re] of [
      [['-o', '-'], /-o -: a bundle is written to a file/],
      [['-o', 'x.tgz', '--max-size', 'lots'], /--max-size: "lots" is not a size/],
      [['-o', 'x.tgz', '--timeout', '0s'], /--timeout: "0s" must be greater than zero/],
      [['-o', 'x.tgz', '-l', 'app in (a'], /-l "app in \(a": not a selector term/],
      [['-o', 'x.tgz', '-A', '-n', 'default'], /give either -A or -n, not both/],
      [['-o', dir], /is a directory; give a file name/],
    ] as [string[], RegExp][]) {
      const r = await runCli(['bug-report', ...args, '--kubeconfig', path.join(dir, 'no-such-kubeconfig')]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });
});

describe('what a bundle holds', () => {
  let c: FakeCluster;
  let out: string;
  before(async () => {
    c = await startCluster({ iptables: true });
    out = path.join(dir, 'full.tar.gz');
    const r = await runCli(['bug-report', '-n', 'default', '-l', 'app in (productpage,reviews)', '-o', out, '--kubeconfig', c.kubeconfig]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => c.close());

  test('-l narrows the proxies, not the resource lists; istiod and its view of each proxy come along', async () => {
    const b = await openBundle(out);
    assert.deepEqual(b.index.pods.proxies.sort(), [`default/${PRODUCTPAGE}`, `default/${REVIEWS_V1}`, 'default/reviews-v2-7bf8c9648f-mx2lp'].sort());
    assert.equal(b.index.pods.istiods.length, 3);
    const pods = JSON.parse((await b.readText('resources/default/pods.json')).text) as { items: unknown[] };
    assert.equal(pods.items.length, 6, 'every pod of the namespace is listed');
    assert.ok(b.has(`pods/istio-system/istiod-7c9d8b6f5-abcde/debug/config_dump/${PRODUCTPAGE}.default.json`));
    assert.ok(b.has(`pods/default/${REVIEWS_V1}/exec/istio-proxy/iptables-save.out`));
    assert.deepEqual(b.index.request.namespaces, ['default']);
    assert.equal(b.index.cluster.server, c.api.url);
    // no Secret was asked for, listed or kept
    assert.ok(!c.api.requests.some((q) => /secrets/.test(q)), c.api.requests.filter((q) => /secrets/.test(q)).join('\n'));
    assert.ok(!Object.keys(b.index.members).some((m) => /secret/i.test(m)));
  });

  test('no private key survives into the bundle', async () => {
    const b = await openBundle(out);
    for (const m of Object.keys(b.index.members)) {
      const text = (await b.read(m)).toString('latin1');
      assert.ok(!/-----BEGIN [A-Z ]*PRIVATE KEY-----\s*[A-Za-z0-9+/]/.test(text), `${m} holds a private key`);
    }
  });

  test('progress: nothing in a pipe, plain lines when stderr is a file', async () => {
    const piped = await runCli(['bug-report', '-n', 'default', '-o', path.join(dir, 'p1.tar.gz'), '--kubeconfig', c.kubeconfig]);
    assert.equal(piped.code, 0);
    assert.doesNotMatch(piped.stderr, /bug-report: (resources|proxies)/);
    const log = path.join(dir, 'stderr.log');
    const fd = openSync(log, 'w');
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'meshctl.js'), 'bug-report', '-n', 'default', '-o', path.join(dir, 'p2.tar.gz'), '--kubeconfig', c.kubeconfig], {
        stdio: ['ignore', 'ignore', fd],
        env: { ...process.env, NO_COLOR: '1' },
      });
      child.on('close', resolve);
    });
    closeSync(fd);
    assert.equal(code, 0);
    const lines = readFileSync(log, 'utf8');
    assert.match(lines, /^bug-report: resources: \d+\/\d+ \(\d+%\)$/m);
    assert.match(lines, /^bug-report: proxies: 4\/4 \(100%\)$/m);
    assert.ok(lines.split('\n').length < 40, lines);
  });
});
