import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { MeshctlError } from '../../src/errors.js';
import { cidrContains, formatAddress, parseAddress, parseCidr } from '../../src/iptables/addr.js';
import { findChain, findTable, type Ruleset } from '../../src/iptables/model.js';
import { parseIptables } from '../../src/iptables/parse.js';
import { tokenize } from '../../src/iptables/rule.js';
import { renderRules } from '../../src/iptables/render.js';
import { Chalk } from 'chalk';
import { fixture } from '../helpers.js';

function load(name: string): Ruleset {
  return parseIptables(readFileSync(fixture('iptables', name), 'utf8'), name);
}

function chain(rs: Ruleset, family: 'ipv4' | 'ipv6', table: string, name: string) {
  const c = findChain(findTable(rs.sections.find((s) => s.family === family), table), name);
  assert.ok(c, `${family} ${table} ${name} exists`);
  return c;
}

function parseError(text: string, name = 'rules.txt'): string {
  try {
    parseIptables(text, name);
  } catch (err) {
    assert.ok(err instanceof MeshctlError, String(err));
    return err.message;
  }
  assert.fail('expected a parse error');
}

test('iptables-save: both families from the save headers, policies, rules with parsed matches', () => {
  const rs = load('classic-sidecar.iptables-save.txt');
  assert.equal(rs.format, 'iptables-save');
  assert.deepEqual(rs.sections.map((s) => [s.family, s.familyFrom]), [['ipv4', 'label'], ['ipv6', 'label']]);
  const nat = findTable(rs.sections[0], 'nat')!;
  assert.deepEqual(nat.chains.map((c) => c.name), [
    'PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING', 'ISTIO_INBOUND', 'ISTIO_IN_REDIRECT', 'ISTIO_OUTPUT', 'ISTIO_REDIRECT',
  ]);
  assert.equal(findChain(nat, 'OUTPUT')!.policy, 'ACCEPT');
  assert.equal(findChain(nat, 'ISTIO_OUTPUT')!.policy, null);
  const out = chain(rs, 'ipv4', 'nat', 'ISTIO_OUTPUT');
  assert.equal(out.rules.length, 11);
  const r2 = out.rules[1];
  assert.equal(r2.index, 2);
  assert.equal(r2.text, '-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m tcp ! --dport 15008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT');
  assert.equal(r2.origin.line, 21);
  assert.deepEqual(
    r2.matches.map((m) => [m.kind, m.negated, m.text]),
    [
      ['destination', true, '! -d 127.0.0.1/32'],
      ['outInterface', false, '-o lo'],
      ['protocol', false, '-p tcp'],
      ['port', true, '-m tcp ! --dport 15008'],
      ['owner', false, '-m owner --uid-owner 1337'],
    ],
  );
  assert.deepEqual(r2.target && [r2.target.name, r2.target.kind], ['ISTIO_IN_REDIRECT', 'chain']);
  const multi = out.rules[9].matches[1];
  assert.ok(multi.kind === 'port');
  assert.deepEqual(multi.ranges, [[3306, 3306], [5432, 5433]]);
  const redirect = chain(rs, 'ipv4', 'nat', 'ISTIO_REDIRECT').rules[0].target!;
  assert.deepEqual([redirect.kind, redirect.options], ['extension', { '--to-ports': '15001' }]);
  assert.equal(chain(rs, 'ipv6', 'nat', 'ISTIO_OUTPUT').rules[0].text, '-A ISTIO_OUTPUT -s ::6/128 -o lo -j RETURN');
});

test('iptables -S output: the same rules as iptables-save, table guessed as nat', () => {
  const s = load('classic-sidecar.nat-S.txt');
  const save = load('classic-sidecar.iptables-save.txt');
  assert.equal(s.format, 'iptables -S');
  assert.equal(s.sections.length, 1);
  const nat = s.sections[0].tables[0];
  assert.deepEqual([nat.name, nat.tableFrom], ['nat', 'guessed']);
  const texts = (rs: Ruleset) => findTable(rs.sections[0], 'nat')!.chains.map((c) => [c.name, c.policy, c.rules.map((r) => r.text)]);
  assert.deepEqual(texts(s), texts(save));
  const forced = parseIptables(readFileSync(fixture('iptables', 'classic-sidecar.nat-S.txt'), 'utf8'), 'x', { table: 'nat' });
  assert.equal(forced.sections[0].tables[0].tableFrom, 'option');
});

test('istio-iptables golden format: -I inserts land where the kernel puts them; families from the addresses', () => {
  const rs = load('tproxy.golden.txt');
  assert.equal(rs.format, 'istio-iptables');
  assert.deepEqual(rs.sections.map((s) => [s.family, s.familyFrom, s.tables.map((t) => t.name)]), [
    ['ipv4', 'addresses', ['nat', 'mangle']],
    ['ipv6', 'addresses', ['nat', 'mangle']],
  ]);
  const inbound = chain(rs, 'ipv4', 'mangle', 'ISTIO_INBOUND').rules.map((r) => r.text);
  assert.equal(inbound.length, 9);
  assert.equal(inbound[0], '-A ISTIO_INBOUND -p tcp -m mark --mark 1337 -j RETURN');
  assert.equal(inbound[2], '-A ISTIO_INBOUND -p tcp -i lo -m mark ! --mark 1338 -j RETURN');
  assert.equal(inbound[3], '-A ISTIO_INBOUND -p tcp --dport 15008 -j RETURN');
  assert.equal(chain(rs, 'ipv6', 'mangle', 'ISTIO_INBOUND').rules[1].text, '-A ISTIO_INBOUND -p tcp -s ::6/128 -i lo -j RETURN');
  const tproxy = chain(rs, 'ipv4', 'mangle', 'ISTIO_TPROXY').rules[0].target!;
  assert.deepEqual(tproxy.options, { '--tproxy-mark': '1337/0xffffffff', '--on-port': '15006' });
  const ct = chain(rs, 'ipv4', 'mangle', 'ISTIO_INBOUND').rules[7].matches[1];
  assert.ok(ct.kind === 'ctstate');
  assert.deepEqual(ct.states, ['RELATED', 'ESTABLISHED']);
});

test('istio-init log: restore inputs, then the iptables-save dumps replace them; log chatter is skipped', () => {
  const rs = load('istio-init-dns.log');
  assert.equal(rs.format, 'istio-iptables');
  assert.deepEqual(rs.warnings, []);
  assert.deepEqual(rs.sections.map((s) => [s.family, s.familyFrom, s.tables.map((t) => t.name)]), [
    ['ipv4', 'label', ['nat', 'raw']],
    ['ipv6', 'label', ['filter']],
  ]);
  // the dump's form (-m udp, -d before -p) wins over the restore input's
  assert.equal(
    chain(rs, 'ipv4', 'nat', 'ISTIO_OUTPUT_DNS').rules[2].text,
    '-A ISTIO_OUTPUT_DNS -d 10.96.0.10/32 -p udp -m udp --dport 53 -j REDIRECT --to-ports 15053',
  );
  assert.equal(chain(rs, 'ipv4', 'nat', 'ISTIO_OUTPUT_DNS').rules.length, 3);
  const input = chain(rs, 'ipv6', 'filter', 'INPUT').rules;
  assert.deepEqual(input.map((r) => r.target?.name), ['ACCEPT', 'ACCEPT', 'REJECT']);
  const lines = readFileSync(fixture('iptables', 'istio-init-dns.log'), 'utf8').split('\n');
  assert.equal(input[2].origin.line, lines.findIndex((l) => l.includes('-j REJECT --reject-with')) + 1);
});

test('structured istio logs, with or without the container runtime prefix, give the same rules', () => {
  const text = readFileSync(fixture('iptables', 'istio-init-structured.log'), 'utf8');
  const rs = parseIptables(text, 'structured.log');
  assert.deepEqual(rs.sections.map((s) => [s.family, s.familyFrom]), [['ipv4', 'label'], ['ipv6', 'label']]);
  assert.equal(chain(rs, 'ipv4', 'nat', 'ISTIO_OUTPUT').rules.length, 10);
  assert.equal(chain(rs, 'ipv6', 'nat', 'ISTIO_OUTPUT').rules.length, 4);
  const cri = text
    .split('\n')
    .map((l, i) => (l === '' ? l : `2026-11-16T10:12:04.${String(i).padStart(6, '0')}Z stdout F ${l}`))
    .join('\n');
  const again = parseIptables(cri, 'structured.log');
  assert.deepEqual(again.sections, rs.sections);
});

test('shell-style commands (`iptables -t nat -A ...`, set -x traces) and -D/-F/-X are replayed', () => {
  const rs = parseIptables(
    [
      '+ iptables -t nat -N ISTIO_REDIRECT',
      'iptables -t nat -A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001',
      'iptables -t nat -A OUTPUT -p tcp -j ISTIO_REDIRECT',
      'iptables -t nat -A OUTPUT -p udp -j RETURN',
      'iptables -t nat -D OUTPUT -p udp -j RETURN',
      'iptables -w -t nat -I OUTPUT 1 -d 127.0.0.1/32 -j RETURN',
      'ip6tables -t nat -N GONE',
      'ip6tables -t nat -X GONE',
      'iptables -t mangle -A OUTPUT -j MARK --set-mark 7',
      'iptables -t mangle -F',
    ].join('\n'),
    'cmds.sh',
  );
  assert.equal(rs.format, 'iptables commands');
  const v4 = rs.sections.find((s) => s.family === 'ipv4')!;
  assert.deepEqual(findChain(findTable(v4, 'nat'), 'OUTPUT')!.rules.map((r) => r.text), [
    '-A OUTPUT -d 127.0.0.1/32 -j RETURN',
    '-A OUTPUT -p tcp -j ISTIO_REDIRECT',
  ]);
  assert.equal(findChain(findTable(v4, 'mangle'), 'OUTPUT')!.rules.length, 0);
  const v6 = rs.sections.find((s) => s.family === 'ipv6')!;
  assert.equal(findChain(findTable(v6, 'nat'), 'GONE'), undefined);
});

test('unknown matches and targets are kept verbatim', () => {
  const rs = load('unknown-match.rules.txt');
  const rules = chain(rs, 'ipv4', 'nat', 'ISTIO_OUTPUT').rules;
  assert.deepEqual(rules[2].matches.map((m) => [m.kind, m.text]), [
    ['protocol', '-p tcp'],
    ['unknown', '-m conntrack --ctorigdstport 8443'],
  ]);
  assert.deepEqual(rules[3].matches.map((m) => [m.kind, m.text]), [['unknown', '-m set --match-set no-mesh dst']]);
  const comment = rules[4].matches[1];
  assert.ok(comment.kind === 'comment');
  assert.equal(comment.comment, 'send the rest to Envoy');
  assert.equal(rules[4].text, '-A ISTIO_OUTPUT -p tcp -m comment --comment "send the rest to Envoy" -j ISTIO_REDIRECT');
  const secmark = chain(rs, 'ipv4', 'mangle', 'OUTPUT').rules[0].target!;
  assert.deepEqual([secmark.name, secmark.kind, secmark.text], ['SECMARK', 'unknown', '-j SECMARK --selctx system_u:object_r:mesh_packet_t:s0']);
});

test('bad lines are reported with file:line, one message for all', () => {
  const msg = parseError(readFileSync(fixture('iptables', 'bad-syntax.txt'), 'utf8'), 'bad-syntax.txt');
  assert.match(msg, /^bad-syntax\.txt:5: --dport: "eighty" is not a port or range: -A OUTPUT -p tcp --dport eighty -j RETURN \(and 1 more problem\)$/);
  assert.match(parseError('*nat\n-A OUTPUT -d 10.0.0.300/32 -j RETURN\nCOMMIT\n'), /^rules\.txt:2: -d: "10\.0\.0\.300\/32" is not an address or CIDR/);
  assert.match(parseError('*nat\n-A OUTPUT -j REDIRECT --to-ports http\nCOMMIT\n'), /rules\.txt:2: REDIRECT --to-ports: "http"/);
  assert.match(parseError('*nat\n-A OUTPUT -p tcp -j\n'), /rules\.txt:2: -j needs a target/);
  assert.match(parseError('*nat\n-A OUTPUT -m comment --comment "open\nCOMMIT\n'), /rules\.txt:2: unbalanced " quote/);
  assert.match(parseError('*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j RETURN\n'), /rules\.txt:1: \*nat has no COMMIT/);
  assert.match(parseError('-A OUTPUT -j RETURN\nhello world\n'), /^rules\.txt:2: not an iptables-save or iptables -S line: hello world$/);
  assert.match(parseError('*nat\n-A PREROUTING -j RETURN\nCOMMIT\n*filter\n-A PREROUTING -j RETURN\nCOMMIT\n'), /rules\.txt:5: the filter table has no built-in chain PREROUTING/);
  assert.match(parseError('-P ISTIO_X ACCEPT\n-N ISTIO_X\n'), /rules\.txt:1: no chain ISTIO_X in the nat table/);
});

test('not iptables at all, or nothing but blank lines: one clear error', () => {
  assert.equal(
    parseError(readFileSync(fixture('iptables', 'not-iptables.json'), 'utf8'), 'pod.json'),
    'pod.json: no iptables rules found (expected iptables-save or iptables -S output, or istio-iptables logs)',
  );
  assert.match(parseError('\n\n  \n'), /no iptables rules found/);
  // a log with nothing from iptables in it
  assert.match(parseError('2026-11-16T10:12:03.100211Z\tinfo\tstarting\n'), /no iptables rules found/);
});

test('a truncated log keeps the rules it has and says so', () => {
  const rs = parseIptables('Environment:\n------------\n* nat\n-N ISTIO_OUTPUT\n-A OUTPUT -j ISTIO_OUTPUT\n', 'init.log');
  assert.equal(rs.warnings.length, 1);
  assert.match(rs.warnings[0], /^init\.log:3: \*nat has no COMMIT .*truncated log/);
  assert.equal(chain(rs, 'ipv4', 'nat', 'OUTPUT').rules.length, 1);
});

test('tokenize: quotes and escapes as iptables-save writes them', () => {
  assert.deepEqual(tokenize('-m comment --comment "a \\"b\\" c" -j X'), ['-m', 'comment', '--comment', 'a "b" c', '-j', 'X']);
  assert.deepEqual(tokenize("--comment 'x y'"), ['--comment', 'x y']);
});

test('addresses: IPv4, IPv6 (with embedded IPv4), dotted masks', () => {
  const v6 = parseCidr('::127.0.0.53/128')!;
  assert.ok(cidrContains(v6, parseAddress('::7f00:35')!));
  assert.ok(!cidrContains(v6, parseAddress('127.0.0.53')!));
  assert.ok(cidrContains(parseCidr('10.0.0.0/255.0.0.0')!, parseAddress('10.9.8.7')!));
  assert.equal(parseCidr('10.0.0.0/255.0.0.0')!.prefix, 8);
  assert.ok(cidrContains(parseCidr('fd00::/8')!, parseAddress('fd12:3456::1')!));
  assert.equal(parseCidr('1.2.3.4/33'), null);
  assert.equal(parseAddress('1:2:3:4:5:6:7:8:9'), null);
  assert.equal(formatAddress(parseAddress('fd00:0:0:0:0:0:0:1')!), 'fd00::1');
  fc.assert(
    fc.property(fc.ipV4(), (ip) => formatAddress(parseAddress(ip)!) === ip),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(fc.ipV6(), (ip) => {
      const a = parseAddress(ip);
      return a !== null && parseAddress(formatAddress(a))!.value === a.value;
    }),
    { numRuns: 200 },
  );
});

test('counters ([p:b] prefixes, -c p b), legacy warnings and "Running ip6tables-restore" labels', () => {
  const rs = parseIptables(
    [
      '# Warning: iptables-legacy tables present, use iptables-legacy-save to see them',
      '*nat',
      ':OUTPUT ACCEPT [10:600]',
      ':ISTIO_OUTPUT - [0:0]',
      '[7:420] -A OUTPUT -p tcp -j ISTIO_OUTPUT',
      '-A ISTIO_OUTPUT -c 3 180 -p tcp -g ISTIO_OUTPUT_NEXT',
      'COMMIT',
      '2026-11-16T10:12:03.100931Z\tinfo\tRunning ip6tables-restore with the following input:',
      '* nat',
      '-N ISTIO_OUTPUT',
      '-A OUTPUT -p tcp -j ISTIO_OUTPUT',
      'COMMIT',
    ].join('\n'),
    'mixed.log',
  );
  const v4 = findChain(findTable(rs.sections[0], 'nat'), 'OUTPUT')!;
  assert.deepEqual(v4.rules[0].counters, { packets: 7, bytes: 420 });
  assert.equal(v4.rules[0].text, '-A OUTPUT -p tcp -j ISTIO_OUTPUT');
  const next = findChain(findTable(rs.sections[0], 'nat'), 'ISTIO_OUTPUT')!.rules[0];
  assert.deepEqual(next.counters, { packets: 3, bytes: 180 });
  assert.equal(next.text, '-A ISTIO_OUTPUT -p tcp -g ISTIO_OUTPUT_NEXT');
  assert.deepEqual([next.target!.goto, next.target!.kind], [true, 'unknown']);
  assert.deepEqual(rs.sections.map((s) => [s.family, s.familyFrom]), [['ipv4', 'default'], ['ipv6', 'label']]);
  const shown = renderRules(rs, 'mixed.log', new Chalk({ level: 0 }), { family: 'ipv4' });
  assert.match(shown, /^CHAIN\s+#\s+PKTS\s+MATCH\s+TARGET$/m);
  assert.match(shown, /^OUTPUT\s+1\s+7\s+-p tcp\s+ISTIO_OUTPUT \(outbound capture\)$/m);
});

test('property: any text either parses or fails with one MeshctlError line, never a crash', () => {
  const token = fc.constantFrom(
    '-A', '-I', '-D', '-N', '-P', '-F', '-X', 'OUTPUT', 'ISTIO_X', '!', '-p', 'tcp', 'udp', '-s', '-d', '10.0.0.0/8', '::1/128', 'bogus',
    '-m', 'owner', 'multiport', 'tcp', 'conntrack', '--dport', '--dports', '53,15008', '--uid-owner', '1337', '--ctstate', 'NEW',
    '-j', '-g', 'RETURN', 'REDIRECT', '--to-ports', '15001', 'TPROXY', '--on-port', '--tproxy-mark', '1337/0xffffffff', '"a b"', '1', '*nat', 'COMMIT', ':OUTPUT', 'ACCEPT', '[0:0]',
  );
  const line = fc.array(token, { minLength: 1, maxLength: 10 }).map((t) => t.join(' '));
  const text = fc.array(fc.oneof(line, fc.string({ maxLength: 30 })), { maxLength: 12 }).map((l) => l.join('\n'));
  fc.assert(
    fc.property(text, (t) => {
      try {
        parseIptables(t, 'fuzz.txt');
      } catch (err) {
        assert.ok(err instanceof MeshctlError, `${String(err)} for ${JSON.stringify(t)}`);
        assert.ok(!err.message.includes('\n'), err.message);
      }
    }),
    { numRuns: 500 },
  );
});
