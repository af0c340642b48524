import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fixture, isOneLineError, runCli } from '../helpers.js';

const F = (name: string) => fixture('iptables', name);

test('bad input: one clear line on stderr, exit 1 (files) or 2 (flags)', async () => {
  const cases: Array<[string[], number, RegExp, string?, Record<string, string | undefined>?]> = [
    [['iptables', '-f', F('bad-syntax.txt')], 1, /^Error: .*bad-syntax\.txt:5: --dport: "eighty" is not a port or range: -A OUTPUT -p tcp --dport eighty -j RETURN \(and 1 more problem\)$/],
    [['iptables', '-f', F('not-iptables.json')], 1, /^Error: .*not-iptables\.json: no iptables rules found \(expected iptables-save or iptables -S output, or istio-iptables logs\)$/],
    [['iptables', '-f', '-'], 1, /^Error: stdin: file is empty$/, ''],
    [['iptables', 'trace', '-f', F('bad-syntax.txt'), '--dst', '1.2.3.4:80'], 1, /bad-syntax\.txt:5:/],
    [['iptables'], 2, /give a pod, or -f FILE/],
    [['iptables', 'web-1', '-f', F('bad-syntax.txt')], 2, /either a pod or -f FILE, not both/],
    [['iptables', '-f', F('bad-syntax.txt'), '-o', 'wide'], 2, /unknown output format "wide"/],
    // live mode without any cluster configured
    [['iptables', 'web-1.default'], 1, /^Error: no kubeconfig/, undefined, { HOME: path.join(os.tmpdir(), 'meshctl-no-home'), KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined }],
  ];
  const results = await Promise.all(cases.map(([args, , , stdin, env]) => runCli(args, { ...(stdin !== undefined ? { stdin } : {}), ...(env ? { env } : {}) })));
  for (const [i, [args, code, re]] of cases.entries()) {
    const r = results[i];
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(isOneLineError(r.stderr), `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trimEnd(), re, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
});

