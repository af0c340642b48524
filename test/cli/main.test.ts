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

test('control characters in an error message are escaped, so input cannot drive the terminal', async () => {
  const { printable } = await import('../../src/cli/main.js');
  assert.equal(printable('bad \u001b[31mred\u001b[0m\rname'), 'bad \\x1b[31mred\\x1b[0m\\x0dname');
  const r = await runCli(['proxy-config', 'clusters', '-f', 'no\u001b[2Jsuch.json']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error: no\\x1b[2Jsuch.json: no such file\n');
});
