import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { VERSION } from '../../src/version.js';
import { ROOT, runCli } from '../helpers.js';

test('version matches package.json', async () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(VERSION, pkg.version);
  const r = await runCli(['version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `meshctl version ${pkg.version}\n`);
  const v = await runCli(['--version']);
  assert.equal(v.code, 0);
  assert.equal(v.stdout.trim(), pkg.version);
});

test('--help exits 0 and lists examples', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: meshctl/);
  assert.match(r.stdout, /Examples:/);
});

test('an unknown command is a usage error (exit 2)', async () => {
  const r = await runCli(['no-such-command']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'no-such-command'/);
});

test('commands load on demand, yet help and suggestions see every one', async () => {
  const { buildProgram } = await import('../../src/cli/main.js');
  const names = (p: Awaited<ReturnType<typeof buildProgram>>) => p.commands.map((c) => [c.name(), ...c.aliases()].join('|'));
  const all = names(await buildProgram());
  assert.deepEqual(all, ['version', 'proxy-config|pc', 'proxy-status|ps', 'istiod', 'dashboard', 'iptables', 'trace', 'authz', 'describe|des', 'analyze', 'kube-inject', 'uninject', 'ztunnel-config|zc', 'waypoint', 'report', 'completion', '__complete', 'bug-report']);
  // every name and alias loads the module that registers it (and only that one)
  for (const entry of all.slice(1)) {
    for (const word of entry.split('|')) {
      const only = names(await buildProgram(['node', 'meshctl', '--no-color', word, 'x']));
      assert.ok(only.includes(entry), `${word}: ${only.join(' ')}`);
      assert.ok(only.length <= 3, `${word} loaded ${only.join(' ')}`);
    }
  }
  assert.deepEqual(names(await buildProgram(['node', 'meshctl', 'help'])), all);
  const help = await runCli(['--help']);
  for (const entry of all.filter((e) => !e.startsWith('__'))) assert.ok(help.stdout.includes(entry), `--help lists ${entry}`);
  assert.ok(!help.stdout.includes('__complete'), 'the completion helper is hidden');
  const typo = await runCli(['analyse', '-R', '.']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /Did you mean analyze\?/);
});

test('control characters in an error message are escaped, so input cannot drive the terminal', async () => {
  const { printable } = await import('../../src/cli/main.js');
  assert.equal(printable('bad \u001b[31mred\u001b[0m\rname'), 'bad \\x1b[31mred\\x1b[0m\\x0dname');
  const r = await runCli(['proxy-config', 'clusters', '-f', 'no\u001b[2Jsuch.json']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error: no\\x1b[2Jsuch.json: no such file\n');
});
