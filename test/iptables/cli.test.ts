import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { packetFromOptions } from '../../src/commands/iptables.js';
import { UsageError } from '../../src/errors.js';
import { parseIptables } from '../../src/iptables/parse.js';
import { renderRules } from '../../src/iptables/render.js';
import { traceIptables } from '../../src/iptables/trace.js';
import { Chalk } from 'chalk';
import { fixture, ROOT, runCli } from '../helpers.js';

const F = (name: string) => fixture('iptables', name);

test('meshctl iptables -f: CHAIN/#/MATCH/TARGET per table, nat first, Istio\'s ports and ids in words', async () => {
  const r = await runCli(['iptables', '-f', F('tproxy.golden.txt')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.split('\n');
  assert.match(lines[0], /^Rules from file .*tproxy\.golden\.txt \(istio-iptables format\)$/);
  const headings = lines.filter((l) => /^IPv[46] /.test(l));
  assert.deepEqual(headings, ['IPv4 nat', 'IPv4 mangle', 'IPv6 nat', 'IPv6 mangle']);
  assert.match(r.stdout, /^CHAIN\s+#\s+MATCH\s+TARGET$/m);
  assert.match(r.stdout, /^ISTIO_OUTPUT\s+2\s+-o lo ! -d 127\.0\.0\.1\/32 -p tcp ! --dport 15008 \(HBONE\) -m owner --uid-owner 1337 \(the proxy itself\)\s+ISTIO_IN_REDIRECT \(to inbound listener 15006\)$/m);
  assert.match(r.stdout, /^ISTIO_REDIRECT\s+1\s+-p tcp\s+REDIRECT --to-ports 15001 \(outbound capture\)$/m);
  assert.match(r.stdout, /^ISTIO_TPROXY\s+1\s+! -d 127\.0\.0\.1\/32 -p tcp\s+TPROXY --tproxy-mark 1337\/0xffffffff --on-port 15006 \(inbound capture, mark 0x539\)$/m);
  assert.match(r.stdout, /^ISTIO_INBOUND\s+5\s+-p tcp --dport 15020 \(agent\)\s+RETURN$/m);
  assert.match(r.stdout, /^OUTPUT\s+-\s+\(end of chain\)\s+policy ACCEPT$/m);
  assert.doesNotMatch(r.stdout, /\x1b\[/); // no colour off a terminal
});

test('meshctl iptables: -t, --family, -o json|yaml, stdin', async () => {
  const [only, json, yaml, none] = await Promise.all([
    runCli(['iptables', '-f', F('istio-init-dns.log'), '-t', 'raw', '--family', 'ipv4']),
    runCli(['iptables', '-f', F('classic-sidecar.iptables-save.txt'), '-o', 'json', '--family', 'ipv4']),
    runCli(['iptables', '-f', '-', '-o', 'yaml'], { stdin: readFileSync(F('classic-sidecar.nat-S.txt'), 'utf8') }),
    runCli(['iptables', '-f', F('classic-sidecar.iptables-save.txt'), '-t', 'mangle']),
  ]);
  assert.equal(only.code, 0, only.stderr);
  assert.deepEqual(only.stdout.split('\n').filter((l) => /^IPv/.test(l)), ['IPv4 raw']);
  assert.match(only.stdout, /--sport 15053 \(DNS proxy\)/);
  assert.match(only.stdout, /^Istio chains: ISTIO_INBOUND = DNS reply conntrack zones; ISTIO_OUTPUT_DNS = DNS conntrack zones$/m);
  assert.equal(json.code, 0, json.stderr);
  const model = JSON.parse(json.stdout);
  assert.equal(model.format, 'iptables-save');
  assert.equal(model.source, `file ${F('classic-sidecar.iptables-save.txt')}`);
  assert.deepEqual(model.sections.map((s: { family: string }) => s.family), ['ipv4']);
  const rule = model.sections[0].tables[0].chains.find((c: { name: string }) => c.name === 'ISTIO_REDIRECT').rules[0];
  assert.deepEqual(rule.target, { name: 'REDIRECT', kind: 'extension', goto: false, options: { '--to-ports': '15001' }, text: '-j REDIRECT --to-ports 15001' });
  assert.equal(yaml.code, 0, yaml.stderr);
  assert.match(yaml.stdout, /^format: iptables -S$/m);
  assert.match(yaml.stdout, /tableFrom: guessed/);
  assert.match(none.stdout, /No mangle rules in the input\./);
  assert.doesNotMatch(only.stdout, /PKTS/);
});

test('meshctl iptables trace: steps, then the verdict; -o json is the stable contract', async () => {
  const r = await runCli(['iptables', 'trace', '-f', F('classic-sidecar.iptables-save.txt'), '--dst', '10.96.3.4:9080']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Packet: outbound tcp \?:\* → 10\.96\.3\.4:9080, uid 1000 gid 1000, out eth0$/m);
  assert.match(r.stdout, /^TABLE\s+CHAIN\s+#\s+RESULT\s+RULE\s+WHY$/m);
  assert.match(r.stdout, /^nat\s+ISTIO_OUTPUT\s+1\s+no match\s+-s 127\.0\.0\.6\/32 -o lo -j RETURN\s+-o lo: out interface is eth0$/m);
  assert.match(r.stdout, /^Verdict: REDIRECT to 15001 \(outbound capture\)/m);

  const j = await runCli(['iptables', 'trace', '-f', F('tproxy.golden.txt'), '--dst', '10.1.2.3:8080', '--direction', 'inbound', '--src', '10.1.9.9', '-o', 'json']);
  assert.equal(j.code, 0, j.stderr);
  const data = JSON.parse(j.stdout);
  assert.deepEqual(
    { target: data.verdict.target, toPort: data.verdict.toPort, chain: data.verdict.chain, uncertain: data.verdict.uncertain },
    { target: 'TPROXY', toPort: 15006, chain: 'ISTIO_TPROXY', uncertain: false },
  );
  assert.equal(data.verdict.rule, '-A ISTIO_TPROXY ! -d 127.0.0.1/32 -p tcp -j TPROXY --tproxy-mark 1337/0xffffffff --on-port 15006');
  assert.ok(Array.isArray(data.steps) && data.steps.length > 5);
  for (const s of data.steps) assert.deepEqual(['chain', 'index', 'rule', 'matched', 'why'].filter((k) => !(k in s)), []);

  const v6 = await runCli(['iptables', 'trace', '-f', F('classic-sidecar.iptables-save.txt'), '--dst', '[fd00::5]:80', '--uid', '1337', '-o', 'json']);
  assert.equal(JSON.parse(v6.stdout).verdict.summary, 'RETURN → ACCEPT (not captured)');

  const unsure = await runCli(['iptables', 'trace', '-f', F('unknown-match.rules.txt'), '--dst', '10.96.0.30:80']);
  assert.equal(unsure.code, 0);
  assert.match(unsure.stdout, /^Verdict \(uncertain\): REDIRECT to 15001/m);
  assert.match(unsure.stdout, /^ {2}- rule 3 of nat ISTIO_OUTPUT uses -m conntrack --ctorigdstport 8443, not simulated; assumed not to match$/m);
  assert.match(unsure.stdout, /^ {2}Had rule 3 of nat ISTIO_OUTPUT matched: RETURN → ACCEPT \(not captured\)$/m);
});

test('trace flags: malformed values are usage errors naming the flag', () => {
  const base = { output: 'short' as const, dst: '10.0.0.1:80', proto: 'tcp', direction: 'outbound' };
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ dst: 'reviews:9080' }, /^--dst: "reviews" is not an IP address/],
    [{ dst: '10.0.0.1:99999' }, /port 99999 is not between 0 and 65535/],
    [{ dst: 'fd00::1:80' }, /--dst: give the port too/],
    [{ proto: 'sctp' }, /--proto must be tcp or udp/],
    [{ uid: 'istio' }, /--uid: "istio" is not a numeric id/],
    [{ gid: '-1' }, /--gid: "-1" is not a numeric id/],
    [{ src: 'fd00::1' }, /both be IPv4 or both IPv6/],
    [{ direction: 'sideways' }, /--direction must be inbound or outbound/],
    [{ podIp: 'pod' }, /--pod-ip: "pod" is not an IP address/],
    [{ mark: 'x' }, /--mark: "x" is not a mark/],
    [{ outIface: 'a b' }, /--out-iface: "a b" is not an interface name/],
  ];
  for (const [extra, re] of cases) {
    assert.throws(() => packetFromOptions({ ...base, ...extra }), (err: unknown) => err instanceof UsageError && re.test(err.message), JSON.stringify(extra));
  }
  assert.deepEqual(packetFromOptions({ ...base, dst: '[fd00::1]:443', src: '[fd00::2]:40000', uid: '1337', mark: '0x539', podIp: 'fd00::1' }), {
    direction: 'outbound', protocol: 'tcp', dst: 'fd00::1', dport: 443, src: 'fd00::2', sport: 40000, uid: 1337, mark: 1337, podIp: 'fd00::1',
  });
});

test('trace --help shows the flags and examples', async () => {
  const r = await runCli(['iptables', 'trace', '--help']);
  assert.equal(r.code, 0);
  for (const flag of ['--dst', '--src', '--proto', '--uid', '--gid', '--out-iface', '--direction', '--pod-ip']) assert.ok(r.stdout.includes(flag), flag);
  assert.match(r.stdout, /Examples:/);
});

// Istio's own istio-iptables test data, when it sits beside the project (CI); never copied into it.
const REFERENCE = process.env.MESHCTL_REFERENCE_DIR
  ? path.join(process.env.MESHCTL_REFERENCE_DIR, 'iptables')
  : path.join(ROOT, '..', 'shared', 'reference', 'iptables');
test('fidelity: every reference rule set parses, tabulates and traces', { skip: existsSync(REFERENCE) ? false : `no reference data at ${REFERENCE}` }, () => {
  const files = readdirSync(REFERENCE).filter((f) => f.endsWith('.txt'));
  assert.ok(files.length > 0);
  const c = new Chalk({ level: 0 });
  for (const f of files) {
    const rs = parseIptables(readFileSync(path.join(REFERENCE, f), 'utf8'), f);
    assert.deepEqual(rs.warnings, [], f);
    assert.match(renderRules(rs, f, c), /^IPv4 nat$/m, f);
    const app = traceIptables(rs, { direction: 'outbound', protocol: 'tcp', dst: '10.0.0.9', dport: 8080 });
    assert.equal(app.verdict.uncertain, false, f);
    const inbound = traceIptables(rs, { direction: 'inbound', protocol: 'tcp', dst: '10.0.0.5', dport: 8080, src: '10.0.0.9' });
    assert.equal(inbound.verdict.uncertain, false, f);
    if (f.startsWith('tproxy')) {
      assert.equal(inbound.verdict.summary, 'TPROXY to 15006 mark 0x539', f);
      assert.equal(traceIptables(rs, { direction: 'outbound', protocol: 'tcp', dst: '9.9.1.1', dport: 80 }).verdict.summary, 'REDIRECT to 15001', f);
      assert.equal(traceIptables(rs, { direction: 'outbound', protocol: 'tcp', dst: '1.1.1.1', dport: 80 }).verdict.chain, 'ISTIO_OUTPUT', f);
    }
    if (f.startsWith('dns')) {
      const dns = traceIptables(rs, { direction: 'outbound', protocol: 'udp', dst: '127.0.0.53', dport: 53 });
      assert.equal(dns.verdict.summary, 'REDIRECT to 15053', f);
      const dns6 = traceIptables(rs, { direction: 'outbound', protocol: 'udp', dst: '::127.0.0.53', dport: 53, uid: 3 });
      assert.equal(dns6.verdict.summary, 'RETURN → ACCEPT (not captured)', f);
    }
    if (f.startsWith('basic')) {
      const nic = traceIptables(rs, { direction: 'outbound', protocol: 'tcp', dst: '10.0.0.9', dport: 80, outIface: 'not-istio-nic' });
      assert.equal(nic.verdict.rule, '-A OUTPUT -o not-istio-nic -j RETURN', f);
    }
  }
});
