import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Ruleset } from '../../src/iptables/model.js';
import { parseIptables } from '../../src/iptables/parse.js';
import { traceIptables, traceTrail, type PacketSpec, type TraceResult } from '../../src/iptables/trace.js';
import { fixture } from '../helpers.js';

const cache = new Map<string, Ruleset>();
function rules(name: string): Ruleset {
  if (!cache.has(name)) cache.set(name, parseIptables(readFileSync(fixture('iptables', name), 'utf8'), name));
  return cache.get(name)!;
}

const out = (dst: string, dport: number, extra: Partial<PacketSpec> = {}): PacketSpec => ({ direction: 'outbound', protocol: 'tcp', dst, dport, ...extra });
const inb = (dst: string, dport: number, extra: Partial<PacketSpec> = {}): PacketSpec => ({ direction: 'inbound', protocol: 'tcp', dst, dport, src: '10.1.9.9', ...extra });

function verdict(r: TraceResult) {
  const v = r.verdict;
  return { target: v.target, toPort: v.toPort, chain: v.chain, uncertain: v.uncertain, summary: v.summary };
}

const CLASSIC = 'classic-sidecar.iptables-save.txt';

test('classic sidecar: an application\'s outbound request is redirected to 15001, every rule visited with why', () => {
  const r = traceIptables(rules(CLASSIC), out('10.96.3.4', 9080));
  assert.deepEqual(verdict(r), { target: 'REDIRECT', toPort: 15001, chain: 'ISTIO_REDIRECT', uncertain: false, summary: 'REDIRECT to 15001' });
  assert.equal(r.verdict.rule, '-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001');
  assert.deepEqual(r.steps.map((s) => [s.chain, s.index, s.matched]), [
    ['OUTPUT', 1, true],
    ...Array.from({ length: 10 }, (_, i) => ['ISTIO_OUTPUT', i + 1, false]),
    ['ISTIO_OUTPUT', 11, true],
    ['ISTIO_REDIRECT', 1, true],
  ]);
  assert.equal(r.steps[1].why, '-o lo: out interface is eth0');
  assert.equal(r.steps[4].why, '-m owner --uid-owner 1337: uid 1000');
  assert.equal(r.steps[0].action, 'jump ISTIO_OUTPUT');
  assert.deepEqual(traceTrail(r), [
    'nat OUTPUT #1: -A OUTPUT -p tcp -j ISTIO_OUTPUT → jump ISTIO_OUTPUT',
    'nat ISTIO_OUTPUT #11: -A ISTIO_OUTPUT -j ISTIO_REDIRECT → jump ISTIO_REDIRECT',
    'nat ISTIO_REDIRECT #1: -A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001 → REDIRECT to 15001 (outbound capture)',
  ]);
  // the JSON contract
  for (const s of r.steps) for (const k of ['chain', 'index', 'rule', 'matched', 'why']) assert.ok(k in s, k);
  for (const k of ['target', 'toPort', 'chain', 'rule', 'uncertain']) assert.ok(k in r.verdict, k);
});

test('classic sidecar: the proxy itself, excluded CIDRs and ports are not captured', () => {
  const proxy = traceIptables(rules(CLASSIC), out('10.96.3.4', 9080, { uid: 1337, gid: 1337 }));
  assert.deepEqual(verdict(proxy), { target: 'ACCEPT', toPort: null, chain: 'ISTIO_OUTPUT', uncertain: false, summary: 'RETURN → ACCEPT (not captured)' });
  assert.equal(proxy.verdict.rule, '-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN');
  assert.equal(proxy.steps.at(-1)!.rule, '-P OUTPUT ACCEPT');
  const uidOnly = traceIptables(rules(CLASSIC), out('10.96.3.4', 9080, { uid: 1337 }));
  assert.equal(uidOnly.packet.gid, 1337);
  assert.ok(uidOnly.packet.assumed.includes('gid 1337 (the same as the uid; --gid to change)'));
  const gidOnly = traceIptables(rules(CLASSIC), out('10.96.3.4', 9080, { gid: 1337 }));
  assert.equal(gidOnly.packet.uid, 1000);
  assert.equal(gidOnly.verdict.rule, '-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN');
  assert.equal(traceIptables(rules(CLASSIC), out('169.254.169.254', 80)).verdict.rule, '-A ISTIO_OUTPUT -d 169.254.169.254/32 -j RETURN');
  assert.equal(traceIptables(rules(CLASSIC), out('10.0.0.5', 5433)).verdict.target, 'ACCEPT');
  assert.equal(traceIptables(rules(CLASSIC), out('10.0.0.5', 5434)).verdict.target, 'REDIRECT');
  assert.equal(traceIptables(rules(CLASSIC), out('10.0.0.5', 3306)).verdict.summary, 'RETURN → ACCEPT (not captured)');
  const udp = traceIptables(rules(CLASSIC), out('10.0.0.5', 9080, { protocol: 'udp' }));
  assert.deepEqual([udp.verdict.summary, udp.verdict.chain, udp.steps.length], ['policy ACCEPT (not captured)', 'OUTPUT', 2]);
});

test('classic sidecar: loopback and the pod\'s own IP leave by lo; the proxy talking to its own pod goes to 15006', () => {
  const loop = traceIptables(rules(CLASSIC), out('127.0.0.1', 8080));
  assert.equal(loop.packet.outIface, 'lo');
  assert.equal(loop.verdict.rule, '-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN');
  const self = traceIptables(rules(CLASSIC), out('10.1.2.3', 8080, { uid: 1337, podIp: '10.1.2.3' }));
  assert.equal(self.packet.outIface, 'lo');
  assert.equal(self.packet.src, '10.1.2.3');
  assert.deepEqual(verdict(self), { target: 'REDIRECT', toPort: 15006, chain: 'ISTIO_IN_REDIRECT', uncertain: false, summary: 'REDIRECT to 15006' });
  const hbone = traceIptables(rules(CLASSIC), out('10.1.2.3', 15008, { uid: 1337, podIp: '10.1.2.3' }));
  assert.equal(hbone.verdict.rule, '-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN');
  const passthrough = traceIptables(rules(CLASSIC), out('10.1.2.3', 8080, { uid: 1337, src: '127.0.0.6', outIface: 'lo' }));
  assert.equal(passthrough.verdict.rule, '-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN');
  const forced = traceIptables(rules(CLASSIC), out('10.96.3.4', 80, { outIface: 'lo' }));
  assert.equal(forced.verdict.target, 'ACCEPT');
});

test('classic sidecar: inbound goes to 15006 except the excluded ports; IPv6 uses the IPv6 rules', () => {
  assert.deepEqual(verdict(traceIptables(rules(CLASSIC), inb('10.1.2.3', 8080))), {
    target: 'REDIRECT', toPort: 15006, chain: 'ISTIO_IN_REDIRECT', uncertain: false, summary: 'REDIRECT to 15006',
  });
  for (const port of [15008, 22, 15090, 15021, 15020]) {
    const r = traceIptables(rules(CLASSIC), inb('10.1.2.3', port));
    assert.equal(r.verdict.summary, 'RETURN → ACCEPT (not captured)', String(port));
  }
  const v6 = traceIptables(rules(CLASSIC), out('fd00::20', 80));
  assert.equal(v6.packet.family, 'ipv6');
  assert.equal(v6.verdict.summary, 'REDIRECT to 15001');
  const v6loop = traceIptables(rules(CLASSIC), out('::1', 80, { uid: 1337 }));
  assert.equal(v6loop.verdict.rule, '-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN');
});

test('DNS capture: UDP and TCP port 53 to the cluster DNS go to 15053, the proxy\'s own DNS does not', () => {
  const udp = traceIptables(rules('istio-init-dns.log'), out('10.96.0.10', 53, { protocol: 'udp' }));
  assert.deepEqual(verdict(udp), { target: 'REDIRECT', toPort: 15053, chain: 'ISTIO_OUTPUT_DNS', uncertain: false, summary: 'REDIRECT to 15053' });
  const tcp = traceIptables(rules('istio-init-dns.log'), out('10.96.0.10', 53));
  assert.deepEqual([tcp.verdict.toPort, tcp.verdict.chain], [15053, 'ISTIO_OUTPUT']);
  const proxy = traceIptables(rules('istio-init-dns.log'), out('10.96.0.10', 53, { protocol: 'udp', uid: 1337, sport: 40000 }));
  assert.equal(proxy.verdict.summary, 'RETURN → ACCEPT (not captured)');
  // raw-table CT rules on the way are shown, not guessed, and cannot change the verdict
  assert.ok(proxy.steps.some((s) => s.table === 'raw' && s.action === 'conntrack zone 1'));
  const other = traceIptables(rules('istio-init-dns.log'), out('8.8.8.8', 53, { protocol: 'udp' }));
  assert.deepEqual([other.verdict.summary, other.verdict.uncertain], ['policy ACCEPT (not captured)', false]);
  const apiserver = traceIptables(rules('istio-init-dns.log'), out('10.96.0.1', 443));
  assert.equal(apiserver.verdict.rule, '-A ISTIO_OUTPUT -d 10.96.0.1/32 -j RETURN');
  // IPv6 inbound is rejected by the filter table when inbound IPv6 is off
  const v6 = traceIptables(rules('istio-init-dns.log'), inb('fd00::5', 8080, { src: 'fd00::9' }));
  assert.deepEqual([v6.verdict.target, v6.verdict.table, v6.verdict.chain], ['REJECT', 'filter', 'INPUT']);
});

test('TPROXY: inbound is diverted to 15006 with mark 0x539; marks and excluded ports are honoured', () => {
  const r = traceIptables(rules('tproxy.golden.txt'), inb('10.1.2.3', 8080));
  assert.deepEqual(verdict(r), { target: 'TPROXY', toPort: 15006, chain: 'ISTIO_TPROXY', uncertain: false, summary: 'TPROXY to 15006 mark 0x539' });
  assert.equal(r.verdict.mark, '0x539');
  assert.ok(r.steps.some((s) => s.why.includes('connection state is NEW')));
  assert.equal(traceIptables(rules('tproxy.golden.txt'), inb('10.1.2.3', 15020)).verdict.summary, 'RETURN → ACCEPT (not captured)');
  const marked = traceIptables(rules('tproxy.golden.txt'), inb('10.1.2.3', 8080, { mark: 1337 }));
  assert.equal(marked.verdict.rule, '-A ISTIO_INBOUND -p tcp -m mark --mark 1337 -j RETURN');
  const viaLo = traceIptables(rules('tproxy.golden.txt'), inb('10.1.2.3', 8080, { inIface: 'lo' }));
  assert.equal(viaLo.verdict.rule, '-A ISTIO_INBOUND -p tcp -i lo -m mark ! --mark 1338 -j RETURN');
  const viaLoMarked = traceIptables(rules('tproxy.golden.txt'), inb('10.1.2.3', 8080, { inIface: 'lo', mark: 1338 }));
  assert.equal(viaLoMarked.verdict.target, 'TPROXY');
  // outbound still uses nat REDIRECT; the mangle OUTPUT marks the proxy's traffic to itself
  const selfCall = traceIptables(rules('tproxy.golden.txt'), out('10.1.2.3', 8080, { uid: 1337, podIp: '10.1.2.3' }));
  assert.equal(selfCall.verdict.toPort, 15006);
  assert.ok(selfCall.steps.some((s) => s.action === 'mark is now 0x53a'));
  assert.equal(traceIptables(rules('tproxy.golden.txt'), out('10.0.0.9', 6379)).verdict.target, 'ACCEPT');
});

test('unknown matches and targets make the verdict explicitly uncertain, with what was at stake', () => {
  const r = traceIptables(rules('unknown-match.rules.txt'), out('10.96.0.30', 80));
  assert.equal(r.verdict.summary, 'REDIRECT to 15001');
  assert.equal(r.verdict.uncertain, true);
  assert.deepEqual(r.verdict.reasons, [
    'rule 3 of nat ISTIO_OUTPUT uses -m conntrack --ctorigdstport 8443, not simulated; assumed not to match',
    'rule 4 of nat ISTIO_OUTPUT uses -m set --match-set no-mesh dst, not simulated; assumed not to match',
  ]);
  assert.equal(r.verdict.ifMatched, 'RETURN → ACCEPT (not captured)');
  assert.equal(r.verdict.ifMatchedRule, 'rule 3 of nat ISTIO_OUTPUT');
  assert.deepEqual(r.steps.filter((s) => s.matched === null).map((s) => s.index), [3, 4]);
  const target = traceIptables(rules('unknown-match.rules.txt'), out('10.96.0.30', 9999, { uid: 1337 }));
  assert.equal(target.verdict.uncertain, true);
  assert.match(target.verdict.reasons[0], /rule 1 of mangle OUTPUT jumps to SECMARK, not simulated/);
  // a rule that does not match for a known reason needs no guessing
  const sure = traceIptables(rules('unknown-match.rules.txt'), out('127.0.0.1', 80));
  assert.deepEqual([sure.verdict.uncertain, sure.verdict.summary], [false, 'RETURN → ACCEPT (not captured)']);
});

test('a source nobody gave is unknown, not assumed', () => {
  const r = traceIptables(rules(CLASSIC), out('10.1.2.3', 8080, { uid: 1337, outIface: 'lo' }));
  assert.equal(r.packet.src, null);
  assert.equal(r.verdict.uncertain, true);
  assert.match(r.verdict.reasons[0], /rule 1 of nat ISTIO_OUTPUT depends on the source address \(pass --src\)/);
  assert.equal(r.verdict.ifMatched, 'RETURN → ACCEPT (not captured)');
});

function inline(text: string): Ruleset {
  return parseIptables(text, 'inline.txt');
}

test('kernel semantics: goto, RETURN from a built-in chain, policies, negations, wildcards, old-style !, notrack', () => {
  const gotoRules = inline(
    '*nat\n:A - [0:0]\n:B - [0:0]\n-A OUTPUT -j A\n-A OUTPUT -j REDIRECT --to-ports 1\n-A A -g B\n-A A -j REDIRECT --to-ports 2\n-A B -j RETURN\nCOMMIT\n',
  );
  assert.equal(traceIptables(gotoRules, out('10.0.0.1', 80)).verdict.toPort, 1);
  const jumpRules = inline(
    '*nat\n:A - [0:0]\n:B - [0:0]\n-A OUTPUT -j A\n-A OUTPUT -j REDIRECT --to-ports 1\n-A A -j B\n-A A -j REDIRECT --to-ports 2\n-A B -j RETURN\nCOMMIT\n',
  );
  assert.equal(traceIptables(jumpRules, out('10.0.0.1', 80)).verdict.toPort, 2);
  const builtinReturn = inline('*nat\n-A OUTPUT -j RETURN\n-A OUTPUT -j REDIRECT --to-ports 1\nCOMMIT\n');
  assert.equal(traceIptables(builtinReturn, out('10.0.0.1', 80)).verdict.summary, 'RETURN → ACCEPT (not captured)');
  const drop = inline('*filter\n:OUTPUT DROP [0:0]\n-A OUTPUT -d 10.0.0.0/8 -j ACCEPT\nCOMMIT\n');
  assert.deepEqual([traceIptables(drop, out('192.168.1.1', 80)).verdict.target, traceIptables(drop, out('192.168.1.1', 80)).verdict.summary], ['DROP', 'policy DROP']);
  assert.equal(traceIptables(drop, out('10.2.3.4', 80)).verdict.target, 'ACCEPT');
  const neg = inline('*nat\n-A OUTPUT ! -s 10.0.0.0/8 -o eth+ -p tcp --dport ! 53 -j REDIRECT --to-ports 7\nCOMMIT\n');
  assert.equal(traceIptables(neg, out('1.1.1.1', 80, { src: '192.168.0.1' })).verdict.toPort, 7);
  assert.equal(traceIptables(neg, out('1.1.1.1', 80, { src: '10.0.0.1' })).verdict.toPort, null);
  assert.equal(traceIptables(neg, out('1.1.1.1', 53, { src: '192.168.0.1' })).verdict.toPort, null);
  assert.equal(traceIptables(neg, out('1.1.1.1', 80, { src: '192.168.0.1', outIface: 'wlan0' })).verdict.toPort, null);
  const notrack = inline('*raw\n-A OUTPUT -j CT --notrack\nCOMMIT\n*nat\n-A OUTPUT -j REDIRECT --to-ports 9\nCOMMIT\n');
  const nt = traceIptables(notrack, out('1.1.1.1', 80));
  assert.equal(nt.verdict.target, 'ACCEPT');
  assert.match(nt.notes[0], /untracked/);
  const marks = inline('*mangle\n-A OUTPUT -j MARK --set-xmark 0x10/0xf0\n-A OUTPUT -j CONNMARK --save-mark\nCOMMIT\n*nat\n-A OUTPUT -m mark --mark 0x10/0xf0 -m connmark --mark 0x10 -j REDIRECT --to-ports 5\nCOMMIT\n');
  assert.equal(traceIptables(marks, out('1.1.1.1', 80)).verdict.toPort, 5);
  const dnat = inline('*nat\n-A OUTPUT -p tcp -d 10.96.0.1 -j DNAT --to-destination 10.0.0.7:6443\nCOMMIT\n*filter\n-A OUTPUT -d 10.0.0.7 -p tcp --dport 6443 -j REJECT\nCOMMIT\n');
  assert.equal(traceIptables(dnat, out('10.96.0.1', 443)).verdict.target, 'REJECT');
  const loop = inline('*mangle\n-A PREROUTING -i lo -p tcp --dport 15021 -j DROP\nCOMMIT\n*nat\n-A OUTPUT -p tcp -d 10.96.3.4 -j REDIRECT --to-ports 15021\nCOMMIT\n');
  const back = traceIptables(loop, out('10.96.3.4', 80));
  assert.deepEqual([back.verdict.target, back.verdict.table, back.verdict.chain], ['DROP', 'mangle', 'PREROUTING']);
  assert.deepEqual([...new Set(back.steps.map((s) => s.hook))], ['OUTPUT', 'PREROUTING']);
  assert.equal(traceIptables(loop, out('10.96.3.5', 15021)).verdict.target, 'ACCEPT');
  const noV6 = traceIptables(inline('*nat\n-A OUTPUT -j REDIRECT --to-ports 1\nCOMMIT\n'), out('fd00::1', 80));
  assert.deepEqual([noV6.verdict.uncertain, noV6.verdict.target], [true, 'ACCEPT']);
  assert.throws(() => traceIptables(gotoRules, out('10.0.0.1', 80, { src: 'fd00::1' })), /not of the same IP family/);
  const cycle = inline('*nat\n:A - [0:0]\n:B - [0:0]\n-A OUTPUT -p udp -j A\n-A A -j B\n-A B -g A\nCOMMIT\n');
  assert.throws(() => traceIptables(cycle, out('10.0.0.1', 80, { protocol: 'udp' })), /^Error: a loop between chains A → B → A in the nat table/);
  // a loop this packet's rules never reach is still refused, as iptables refuses the whole table
  assert.throws(() => traceIptables(cycle, out('10.0.0.1', 80)), /a loop between chains/);
});

test('property: any TCP/UDP packet through the classic rules ends in exactly one verdict, every step accounted for', () => {
  const packet = fc.record({
    direction: fc.constantFrom<'inbound' | 'outbound'>('inbound', 'outbound'),
    protocol: fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp'),
    dst: fc.oneof(fc.ipV4(), fc.constantFrom('127.0.0.1', '10.1.2.3', '::1', 'fd00::1')),
    dport: fc.integer({ min: 1, max: 65535 }),
    uid: fc.constantFrom(0, 1000, 1337),
    gid: fc.constantFrom(0, 1000, 1337),
  });
  fc.assert(
    fc.property(packet, (p) => {
      const r = traceIptables(rules(CLASSIC), { ...p, podIp: '10.1.2.3', src: p.dst.includes(':') ? 'fd00::9' : '10.1.9.9' });
      const v = r.verdict;
      if (v.target === 'REDIRECT') {
        // only TCP is ever redirected by these rules, and only the proxy's traffic to the pod gets 15006 outbound
        assert.equal(p.protocol, 'tcp');
        assert.ok(v.toPort === 15001 || v.toPort === 15006);
        if (p.direction === 'outbound' && v.toPort === 15006) assert.ok(p.uid === 1337 || p.gid === 1337);
        if (p.direction === 'outbound' && v.toPort === 15001) assert.ok(p.uid !== 1337 && p.gid !== 1337);
      } else {
        assert.equal(v.target, 'ACCEPT');
      }
      assert.equal(v.uncertain, false);
      assert.ok(r.steps.every((s) => s.why.length > 0));
    }),
    { numRuns: 300 },
  );
});

test('property: random rule sets trace to a verdict (or a loop error), never a crash', () => {
  const match = fc.constantFrom('', '-p tcp', '! -p udp', '-s 10.0.0.0/8', '! -d 127.0.0.1/32', '-o lo', '-i eth+', '-p tcp --dport 80', '-p tcp -m multiport ! --dports 53,15008',
    '-m owner --uid-owner 1337', '-m owner ! --gid-owner 1337', '-m mark --mark 0x1/0x1', '-m conntrack --ctstate NEW', '-m set --match-set s dst', '-p tcp --syn');
  const target = fc.constantFrom('-j RETURN', '-j ACCEPT', '-j DROP', '-j A', '-j B', '-g B', '-j REDIRECT --to-ports 15001', '-j MARK --set-mark 1', '-j CT --zone 1', '-j LOG', '-j WEIRD', '');
  const rule = fc.tuple(fc.constantFrom('OUTPUT', 'PREROUTING', 'A', 'B'), match, target).map(([c, m, t]) => `-A ${c} ${m} ${t}`.replace(/\s+/g, ' ').trim());
  const ruleset = fc.array(rule, { maxLength: 12 }).map((rules) => `*nat\n:A - [0:0]\n:B - [0:0]\n${rules.join('\n')}\nCOMMIT\n`);
  const packet = fc.record({
    direction: fc.constantFrom<'inbound' | 'outbound'>('inbound', 'outbound'),
    protocol: fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp'),
    dst: fc.constantFrom('10.1.2.3', '127.0.0.1', '8.8.8.8'),
    dport: fc.constantFrom(80, 53, 15008),
    uid: fc.constantFrom(1000, 1337),
  });
  fc.assert(
    fc.property(ruleset, packet, (text, p) => {
      const rs = inline(text);
      try {
        const r = traceIptables(rs, p);
        assert.ok(['ACCEPT', 'DROP', 'REDIRECT'].includes(r.verdict.target), r.verdict.target);
        assert.equal(r.verdict.uncertain, r.verdict.reasons.length > 0);
        if (r.verdict.target === 'REDIRECT') assert.equal(r.verdict.toPort, 15001);
      } catch (err) {
        assert.match((err as Error).message, /^a loop between chains (A|B)( → (A|B))+ in the nat table/);
      }
    }),
    { numRuns: 400 },
  );
});
