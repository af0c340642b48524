/**
 * Safety: exec runs a fixed argument vector (user text is one argv element or refused, never shell
 * syntax), TLS to the API server is verified unless the kubeconfig says otherwise, and `-o FILE` is
 * written atomically (an error leaves the old file intact, no temp file beside it).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeKubeconfig } from '../harness/apiserver.js';
import { type FakeCluster, PRODUCTPAGE, startCluster } from '../harness/cluster.js';
import { ROOT, fixture, isOneLineError, pool, runCli } from '../helpers.js';

const POD = `${PRODUCTPAGE}.default`;
const HOSTILE = ['; rm -rf /', '$(touch /tmp/meshctl-pwned)', '`id` && reboot', '\n/bin/sh -c id'];
const SAVERS = ['iptables-save', 'ip6tables-save', 'iptables-legacy-save', 'ip6tables-legacy-save', 'iptables-nft-save', 'ip6tables-nft-save'];

const SHELLS = /^(\/(usr\/)?bin\/)?(ba|da|z|k|c|tc)?sh$/;

let cases = 0;

describe('exec only runs a fixed argument vector', () => {
  let c: FakeCluster;
  // port-forward is denied, so every admin request goes through exec (pilot-agent request)
  before(async () => (c = await startCluster({ deny: [{ verb: 'create', resource: 'pods/portforward' }] })));
  after(async () => c.close());

  test('hostile text in pod names, logger names and namespaces is one argv element or refused', async (t) => {
    const runs: string[][] = [];
    for (const h of HOSTILE) {
      runs.push(['proxy-config', 'clusters', `${PRODUCTPAGE}${h}`]);
      runs.push(['proxy-config', 'log', POD, '--level', `${h}:debug`]);
      runs.push(['iptables', `${PRODUCTPAGE}${h}`]);
      runs.push(['proxy-config', 'clusters', PRODUCTPAGE, '-n', `default${h}`]);
    }
    const results = await pool(runs, 3, (args) => runCli([...args, '--kubeconfig', c.kubeconfig, '--timeout', '5s'], { timeoutMs: 30_000 }));
    results.forEach((r, i) => {
      cases++;
      assert.notEqual(r.code, null, `${runs[i].join(' ')}: killed`);
      // 2: refused as a usage error (a malformed reference) before any request
      assert.ok(r.code === 1 || r.code === 2, `${runs[i].join(' ')}: exit ${r.code}`);
      assert.ok(isOneLineError(r.stderr), `${JSON.stringify(runs[i])}: ${JSON.stringify(r.stderr)}`);
    });
    assert.ok(c.execArgv.length > 0, 'no case reached exec');
    for (const { argv } of c.execArgv) {
      assert.ok(!SHELLS.test(argv[0]) && !argv.includes('-c'), `a shell was run: ${JSON.stringify(argv)}`);
      if (argv[0] === 'pilot-agent') {
        // pilot-agent request <METHOD> <path>: the user's text only ever inside the one path element, URL-encoded
        assert.equal(argv.length, 4, JSON.stringify(argv));
        assert.deepEqual(argv.slice(0, 2), ['pilot-agent', 'request']);
        assert.match(argv[2], /^(GET|POST)$/);
        assert.doesNotMatch(argv[3], /[\s;`$|&<>"\\]/, `raw shell syntax in ${JSON.stringify(argv)}`);
      } else {
        assert.ok(SAVERS.includes(argv[0]) && argv.length === 1, `unexpected exec: ${JSON.stringify(argv)}`);
      }
    }
    // the --level cases went through exec (the loggers are read first) and were refused there: an
    // unknown logger never reaches a POST, so no hostile text, raw or encoded, is in any argv
    assert.ok(c.execArgv.some((e) => e.argv[3] === 'logging'), JSON.stringify(c.execArgv.map((e) => e.argv)));
    for (const { argv } of c.execArgv) {
      for (const h of HOSTILE) {
        for (const form of [h.trim(), encodeURIComponent(h.trim())]) assert.ok(!argv.some((el) => el.includes(form)), `${JSON.stringify(argv)} holds ${JSON.stringify(h)}`);
      }
    }
    t.diagnostic(`${runs.length} hostile-argument cases, ${c.execArgv.length} execs inspected`);
  });

  test('src/ never spawns processes: no child_process outside test/ and bench/', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (/\.[cm]?[jt]s$/.test(entry.name) && /child_process|\bexecSync\b|\bspawnSync\b/.test(readFileSync(p, 'utf8'))) offenders.push(path.relative(ROOT, p));
      }
    };
    walk(path.join(ROOT, 'src'));
    walk(path.join(ROOT, 'bin'));
    cases++;
    assert.deepEqual(offenders, []);
  });
});

describe('TLS to the API server is verified', () => {
  test('wrong CA: one TLS error line; right CA: works; insecure-skip-tls-verify in the kubeconfig: works', async () => {
    const wrong = await startCluster({ tls: true, trustedCa: 'other-ca' });
    try {
      for (const args of [['proxy-status'], ['proxy-config', 'clusters', POD], ['kube-inject', '-f', fixture('inject', 'shop-web.yaml')]]) {
        const r = await runCli([...args, '--kubeconfig', wrong.kubeconfig, '--timeout', '5s'], { timeoutMs: 30_000 });
        cases++;
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.ok(isOneLineError(r.stderr), r.stderr);
        assert.match(r.stderr, /^Error: (reading the injector settings: )?TLS error talking to the API server at https:\/\/127\.0\.0\.1:\d+: .*certificate.*\(check certificate-authority of context "harness"\)( \(--offline .*\))?\n$/);
        assert.equal(r.stdout, '');
      }
      // no CA at all: the system roots do not know the test CA either
      const noCa = await writeKubeconfig(path.join(wrong.dir, 'no-ca'), { server: wrong.api.url });
      const r = await runCli(['proxy-status', '--kubeconfig', noCa, '--timeout', '5s'], { timeoutMs: 30_000 });
      cases++;
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^Error: TLS error talking to the API server/);
      // the kubeconfig itself turns verification off: then (and only then) the wrong certificate is accepted
      const insecure = path.join(wrong.dir, 'insecure');
      writeFileSync(insecure, readFileSync(noCa, 'utf8').replace(`    server: ${wrong.api.url}\n`, `    server: ${wrong.api.url}\n    insecure-skip-tls-verify: true\n`));
      assert.match(readFileSync(insecure, 'utf8'), /insecure-skip-tls-verify: true/);
      const ok = await runCli(['proxy-status', '--kubeconfig', insecure, '--timeout', '5s'], { timeoutMs: 30_000 });
      cases++;
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, new RegExp(PRODUCTPAGE));
    } finally {
      await wrong.close();
    }
    const right = await startCluster({ tls: true });
    try {
      const r = await runCli(['proxy-config', 'clusters', POD, '--kubeconfig', right.kubeconfig, '--timeout', '5s'], { timeoutMs: 30_000 });
      cases++;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^reviews\.default\.svc\.cluster\.local\s+9080/m);
    } finally {
      await right.close();
    }
  });
});

describe('-o FILE is written atomically', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-atomic-'));
  const env = { HOME: dir, KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined };
  after(() => rmSync(dir, { recursive: true, force: true }));
  const OLD = 'old content: must survive a failed run\n';

  const check = async (name: string, args: (out: string) => string[], expectOk: boolean) => {
    const sub = path.join(dir, name);
    mkdirSync(sub);
    const out = path.join(sub, 'result.yaml');
    writeFileSync(out, OLD);
    const r = await runCli(args(out), { env, timeoutMs: 30_000 });
    cases++;
    assert.notEqual(r.code, null, `${name}: killed`);
    if (expectOk) {
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.notEqual(readFileSync(out, 'utf8'), OLD, `${name}: not written`);
    } else {
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      assert.ok(isOneLineError(r.stderr), `${name}: ${r.stderr}`);
      assert.equal(readFileSync(out, 'utf8'), OLD, `${name}: the old file was changed`);
    }
    assert.deepEqual(readdirSync(sub), ['result.yaml'], `${name}: a temp file was left beside the output`);
  };

  test('kube-inject -o and uninject -o: success replaces, every failure keeps the old file and leaves no temp file', async (t) => {
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x\n  : [\n');
    const truncated = path.join(dir, 'truncated.json');
    writeFileSync(truncated, '{"apiVersion": "apps/v1", "kind": "Deploy');
    const web = fixture('inject', 'shop-web.yaml');
    await check('inject-ok', (o) => ['kube-inject', '--offline', '-f', web, '-o', o], true);
    await check('inject-bad-yaml', (o) => ['kube-inject', '--offline', '-f', bad, '-o', o], false);
    await check('inject-truncated', (o) => ['kube-inject', '--offline', '-f', truncated, '-o', o], false);
    await check('inject-missing-input', (o) => ['kube-inject', '--offline', '-f', path.join(dir, 'nope.yaml'), '-o', o], false);
    await check('inject-bad-values', (o) => ['kube-inject', '-f', web, '--valuesFile', bad, '-o', o], false);
    const down = await writeKubeconfig(path.join(dir, 'down-kubeconfig'), { server: 'http://127.0.0.1:9' });
    await check('inject-cluster-down', (o) => ['kube-inject', '-f', web, '--kubeconfig', down, '--timeout', '2s', '-o', o], false);
    await check('uninject-bad-yaml', (o) => ['uninject', '-f', bad, '-o', o], false);

    // the rename itself fails (the target is a directory): the temp file must not stay behind
    const sub = path.join(dir, 'target-is-dir');
    mkdirSync(path.join(sub, 'result.yaml'), { recursive: true });
    const r = await runCli(['kube-inject', '--offline', '-f', web, '-o', path.join(sub, 'result.yaml')], { env });
    cases++;
    assert.equal(r.code, 1, r.stderr);
    assert.ok(isOneLineError(r.stderr), r.stderr);
    assert.match(r.stderr, /cannot write .*result\.yaml/);
    assert.deepEqual(readdirSync(sub), ['result.yaml']);
    // this suite runs last: report the whole file's count
    t.diagnostic(`${cases} safety cases`);
    process.stdout.write(`# safety battery: ${cases} cases\n`);
  });
});

