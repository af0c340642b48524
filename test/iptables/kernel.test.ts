/**
 * Ground truth: load rule sets into a network namespace made for the test, send real packets from the
 * right uid/gid, and check that the trace's verdict is where the kernel really delivered them.
 *
 * Two namespaces joined by a veth pair, both ends called eth0: "pod" (10.77.0.2, fd77::2) holds the rules
 * and listeners on Envoy's ports; "peer" (10.77.0.9, fd77::9, plus the service IPs the probes use) answers
 * whatever is not captured. Every listener answers with where it is ("pod:15001", "peer:9080"), so a probe
 * learns where its connection landed. Needs root, `ip netns` and iptables; skips with a message otherwise.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Ruleset } from '../../src/iptables/model.js';
import { parseIptables } from '../../src/iptables/parse.js';
import { toRestoreText } from '../../src/iptables/restore.js';
import { traceIptables, type PacketSpec, type TraceResult } from '../../src/iptables/trace.js';
import { fixture } from '../helpers.js';

const POD = `mctl-pod-${process.pid}`;
const PEER = `mctl-peer-${process.pid}`;
const POD_IP = '10.77.0.2';
const POD_IP6 = 'fd77::2';
const PEER_OWNS = ['10.96.3.4', '10.96.0.10', '10.96.0.1', '169.254.169.254'];
const PEER_OWNS6 = ['fd96::34'];
const POD_PORTS = [15001, 15008, 15020, 15021, 15053, 15090, 8080];
const PEER_PORTS = [9080, 80, 53, 443, 5433, 6379, 8080];

function run(cmd: string, args: string[], input?: string): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function must(cmd: string, args: string[], input?: string): string {
  const r = run(cmd, args, input);
  if (!r.ok) throw new Error(`${cmd} ${args.join(' ')}: ${r.out.trim()}`);
  return r.out;
}

function whyNot(): string | null {
  if (process.platform !== 'linux') return 'kernel tests need Linux';
  if (process.getuid?.() !== 0) return 'kernel tests need root (network namespaces and iptables)';
  if (!run('ip', ['-V']).ok) return 'kernel tests need iproute2 (`ip`)';
  for (const bin of ['iptables-restore', 'ip6tables-restore']) if (!run(bin, ['--version']).ok) return `kernel tests need ${bin} (apt-get install iptables)`;
  for (const bin of ['setpriv', 'timeout', 'bash']) if (!run('which', [bin]).ok) return `kernel tests need ${bin}`;
  const probe = `mctl-probe-${process.pid}`;
  const added = run('ip', ['netns', 'add', probe]);
  if (!added.ok) return `cannot create a network namespace: ${added.out.trim()}`;
  try {
    // every match and target the fixtures use, but TPROXY (checked on its own)
    const rules = [
      '*raw', '-A OUTPUT -p udp --dport 53 -m owner --uid-owner 1337 -j CT --zone 1', 'COMMIT',
      '*mangle', '-A PREROUTING -p tcp -m conntrack --ctstate RELATED,ESTABLISHED -m mark --mark 1337 -j CONNMARK --save-mark', '-A OUTPUT -m connmark --mark 1 -j MARK --set-mark 1338', 'COMMIT',
      '*nat', '-A OUTPUT -p tcp -m multiport ! --dports 53,15008 -m owner --gid-owner 1337 -j REDIRECT --to-ports 1', 'COMMIT',
      '*filter', '-A INPUT -m state --state ESTABLISHED -j REJECT', 'COMMIT', '',
    ].join('\n');
    const loaded = run('ip', ['netns', 'exec', probe, 'iptables-restore'], rules);
    if (!loaded.ok) return `the kernel refuses the rules the tests need in a namespace: ${loaded.out.trim()}`;
  } finally {
    run('ip', ['netns', 'del', probe]);
  }
  return null;
}

function tproxyWhyNot(): string | null {
  if (!run('python3', ['-c', 'import socket; socket.socket(socket.AF_INET6).setsockopt(0, 19, 1)']).ok) {
    return 'TPROXY delivers only to a transparent socket, made here with python3, which is not available';
  }
  const probe = `mctl-tproxy-${process.pid}`;
  if (!run('ip', ['netns', 'add', probe]).ok) return 'cannot create a network namespace';
  try {
    const r = run('ip', ['netns', 'exec', probe, 'iptables-restore'], '*mangle\n-A PREROUTING -p tcp -j TPROXY --tproxy-mark 1337/0xffffffff --on-port 15006\nCOMMIT\n');
    return r.ok ? null : `the kernel refuses TPROXY rules: ${r.out.trim()}`;
  } finally {
    run('ip', ['netns', 'del', probe]);
  }
}

const skip = whyNot();
if (skip) console.log(`# kernel ground-truth tests skipped: ${skip}`);

const tproxySkip = skip ?? tproxyWhyNot();
const hasPython = tproxySkip === null;

// A listener per port on the dual-stack wildcard address, answering with its name and port.
const LISTENER = `
const net = require('node:net'), dgram = require('node:dgram');
const [name, ports, uid, udpHosts] = [process.argv[2], process.argv[3].split(',').map(Number), Number(process.argv[4]), process.argv[5].split(',')];
let pending = ports.length * 2;
// in the pod the listeners are the proxy (uid 1337): Istio's DNS rules expect the proxy's sockets to reply
if (uid) { process.setgroups([uid]); process.setgid(uid); process.setuid(uid); }
const ready = () => { if (--pending === 0) process.stdout.write('ready\\n'); };
for (const port of ports) {
  net.createServer((s) => { s.on('error', () => {}); s.end(name + ':' + port + '\\n'); }).listen({ port, host: '::' }, ready);
  // UDP answers from the address it was asked on (as Istio's DNS proxy on 127.0.0.1:15053 does), else a
  // connected client drops the reply: one socket per address
  pending += udpHosts.length - 1;
  for (const host of udpHosts) {
    const type = host.includes(':') ? 'udp6' : 'udp4';
    const u = dgram.createSocket({ type, ipv6Only: false });
    u.on('message', (m, r) => u.send(name + ':' + port + '\\n', r.port, r.address));
    u.bind(port, host, ready);
  }
}
`;

// Envoy's inbound port as a transparent socket: TPROXY delivers only to those.
const TRANSPARENT = `
import socket, threading, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(0, 19, 1)   # IP_TRANSPARENT
s.setsockopt(41, 75, 1)  # IPV6_TRANSPARENT
s.setsockopt(41, 26, 0)  # IPV6_V6ONLY off
s.bind(('::', 15006)); s.listen(64)
print('ready', flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b'pod:15006\\n'); c.close()
`;

let dir = '';
const children: ChildProcess[] = [];

function startIn(ns: string, cmd: string, args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} in ${ns} did not start: ${out}`)), 5000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`${cmd} in ${ns} exited (${code}): ${out}`)));
  });
}

function cleanup(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  run('ip', ['netns', 'del', POD]);
  run('ip', ['netns', 'del', PEER]);
  if (dir) rmSync(dir, { recursive: true, force: true });
}

before(async () => {
  if (skip) return;
  process.on('exit', cleanup);
  cleanup();
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-kernel-'));
  for (const [name, text] of Object.entries({ 'listener.cjs': LISTENER, 'transparent.py': TRANSPARENT })) {
    writeFileSync(path.join(dir, name), text, { mode: 0o644 });
  }
  must('ip', ['netns', 'add', POD]);
  must('ip', ['netns', 'add', PEER]);
  must('ip', ['link', 'add', 'eth0', 'netns', POD, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', PEER]);
  for (const [ns, v4, v6] of [[POD, POD_IP, POD_IP6], [PEER, '10.77.0.9', 'fd77::9']]) {
    must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    must('ip', ['-n', ns, 'addr', 'add', `${v4}/24`, 'dev', 'eth0']);
    must('ip', ['-n', ns, 'addr', 'add', `${v6}/64`, 'dev', 'eth0', 'nodad']);
    must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }
  must('ip', ['-n', POD, 'route', 'add', 'default', 'via', '10.77.0.9']);
  must('ip', ['-n', POD, '-6', 'route', 'add', 'default', 'via', 'fd77::9']);
  for (const a of PEER_OWNS) must('ip', ['-n', PEER, 'addr', 'add', `${a}/32`, 'dev', 'lo']);
  for (const a of PEER_OWNS6) must('ip', ['-n', PEER, 'addr', 'add', `${a}/128`, 'dev', 'lo']);
  // what istio-iptables sets up for TPROXY: marked packets are local
  must('ip', ['-n', POD, 'rule', 'add', 'fwmark', '1337', 'lookup', '133']);
  must('ip', ['-n', POD, 'route', 'add', 'local', 'default', 'dev', 'lo', 'table', '133']);
  await startIn(POD, process.execPath, [path.join(dir, 'listener.cjs'), 'pod', (hasPython ? POD_PORTS : [...POD_PORTS, 15006]).join(','), '1337', '127.0.0.1,::1']);
  await startIn(PEER, process.execPath, [path.join(dir, 'listener.cjs'), 'peer', PEER_PORTS.join(','), '0', [...PEER_OWNS, ...PEER_OWNS6].join(',')]);
  if (hasPython) await startIn(POD, 'python3', [path.join(dir, 'transparent.py')]);
});

after(() => {
  if (!skip) cleanup();
});

/** Replaces every table of both families in the pod with the ruleset's. */
function load(rs: Ruleset): void {
  for (const family of ['ipv4', 'ipv6'] as const) {
    const bin = family === 'ipv4' ? 'iptables-restore' : 'ip6tables-restore';
    const empty = '*raw\nCOMMIT\n*mangle\nCOMMIT\n*nat\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';
    must('ip', ['netns', 'exec', POD, bin], empty);
    const section = rs.sections.find((s) => s.family === family);
    if (section) must('ip', ['netns', 'exec', POD, bin], toRestoreText(section));
  }
}

interface Probe {
  packet: PacketSpec;
  /** What the trace must say, and so where the kernel must deliver. */
  expect: string;
}

function rules(name: string): Ruleset {
  return parseIptables(readFileSync(fixture('iptables', name), 'utf8'), name);
}

/** Where a verdict says the connection lands, in the listeners' words. */
function landing(r: TraceResult, p: PacketSpec): string {
  const v = r.verdict;
  if (v.target === 'REDIRECT' || v.target === 'TPROXY') return `pod:${v.toPort}`;
  if (v.target === 'REJECT') return 'refused';
  if (v.target === 'DROP') return 'timeout';
  const local = p.direction === 'inbound' || p.dst === POD_IP || p.dst === POD_IP6 || p.dst.startsWith('127.') || p.dst === '::1';
  return `${local ? 'pod' : 'peer'}:${p.dport}`;
}

/**
 * Sends every probe at once from one namespace: a bash /dev/tcp or /dev/udp client per probe, under
 * setpriv with the probe's uid and gid (the owner match reads the socket's credentials). Starting a
 * shell costs milliseconds where a Node process costs hundreds.
 */
function sendAll(ns: string, packets: PacketSpec[]): Promise<string[]> {
  const lines = packets.map((p, i) => {
    const dev = `/dev/${p.protocol}/${p.dst}/${p.dport}`;
    const talk = p.protocol === 'udp'
      ? `exec 3<>${dev} && printf q >&3 && timeout 5 dd bs=512 count=1 <&3 2>/dev/null`
      : `exec 3<>${dev} && IFS= read -r -t 5 line <&3; echo "$line"`;
    // bash reads sockets a byte at a time, which would keep one byte of a datagram: dd reads it whole
    const who = p.uid !== undefined ? `setpriv --reuid=${p.uid} --regid=${p.gid ?? p.uid} --clear-groups ` : '';
    return `( out=$(timeout 6 ${who}bash -c '${talk}' 2>&1); echo "${i} $out" ) &`;
  });
  const script = `${lines.join('\n')}\nwait\n`;
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, 'bash', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    // 'close', not 'exit': under load the process can exit before its piped output has all been read
    child.on('close', () => {
      if (process.env.MESHCTL_KERNEL_DEBUG) console.log(JSON.stringify(out));
      const results = packets.map(() => 'no answer');
      for (const line of out.split('\n')) {
        const m = /^(\d+) ?(.*)$/.exec(line);
        if (!m) continue;
        const text = m[2].trim();
        results[Number(m[1])] = /refused/i.test(text) ? 'refused' : text === '' ? 'timeout' : text.split('\n').pop()!;
      }
      resolve(results);
    });
  });
}

async function check(rs: Ruleset, probes: Probe[]): Promise<void> {
  load(rs);
  // probes are independent connections: send them all at once, then compare each
  const out = probes.filter((p) => p.packet.direction === 'outbound');
  const inb = probes.filter((p) => p.packet.direction === 'inbound');
  const [fromPod, fromPeer] = await Promise.all([sendAll(POD, out.map((p) => p.packet)), sendAll(PEER, inb.map((p) => p.packet))]);
  const sent = probes.map((p) => (p.packet.direction === 'outbound' ? fromPod[out.indexOf(p)] : fromPeer[inb.indexOf(p)]));
  for (const [i, probe] of probes.entries()) {
    const p = probe.packet;
    const r = traceIptables(rs, { podIp: p.direction === 'outbound' ? (p.dst.includes(':') ? POD_IP6 : POD_IP) : undefined, ...p });
    const label = `${p.direction} ${p.protocol} ${p.dst}:${p.dport} uid ${p.uid ?? '-'} gid ${p.gid ?? '-'}`;
    assert.equal(r.verdict.uncertain, false, `${label}: ${r.verdict.reasons.join('; ')}`);
    const said = landing(r, p);
    assert.equal(said, probe.expect, `${label}: trace says ${r.verdict.summary}`);
    assert.equal(sent[i], said, `${label}: the kernel delivered to ${sent[i]}, the trace says ${r.verdict.summary}`);
  }
}

const app = { uid: 1000, gid: 1000 };
const proxy = { uid: 1337, gid: 1337 };
const outbound = (dst: string, dport: number, who: object, extra: Partial<PacketSpec> = {}): PacketSpec => ({ direction: 'outbound', protocol: 'tcp', dst, dport, ...who, ...extra });
const inbound = (dst: string, dport: number): PacketSpec => ({ direction: 'inbound', protocol: 'tcp', dst, dport, src: dst.includes(':') ? 'fd77::9' : '10.77.0.9' });

test('kernel agrees: classic ISTIO_INBOUND / ISTIO_IN_REDIRECT / ISTIO_OUTPUT / ISTIO_REDIRECT chains', { skip: skip ?? false }, async () => {
  await check(rules('classic-sidecar.iptables-save.txt'), [
    { packet: outbound('10.96.3.4', 9080, app), expect: 'pod:15001' },
    { packet: outbound('10.96.3.4', 9080, proxy), expect: 'peer:9080' },
    { packet: outbound('10.96.3.4', 9080, { uid: 1000, gid: 1337 }), expect: 'peer:9080' },
    { packet: outbound('169.254.169.254', 80, app), expect: 'peer:80' },
    { packet: outbound('10.96.3.4', 5433, app), expect: 'peer:5433' },
    { packet: outbound('127.0.0.1', 8080, app), expect: 'pod:8080' },
    { packet: outbound(POD_IP, 8080, proxy), expect: 'pod:15006' },
    { packet: outbound(POD_IP, 15008, proxy), expect: 'pod:15008' },
    { packet: outbound(POD_IP, 8080, app), expect: 'pod:8080' },
    { packet: inbound(POD_IP, 8080), expect: 'pod:15006' },
    { packet: inbound(POD_IP, 15021), expect: 'pod:15021' },
    { packet: outbound('fd96::34', 9080, app), expect: 'pod:15001' },
    { packet: outbound('fd96::34', 9080, proxy), expect: 'peer:9080' },
    { packet: inbound(POD_IP6, 8080), expect: 'pod:15006' },
  ]);
});

test('kernel agrees: DNS capture (UDP and TCP 53 to 15053), the proxy\'s own DNS, IPv6 inbound rejected', { skip: skip ?? false }, async () => {
  await check(rules('istio-init-dns.log'), [
    { packet: outbound('10.96.0.10', 53, app, { protocol: 'udp' }), expect: 'pod:15053' },
    { packet: outbound('10.96.0.10', 53, proxy, { protocol: 'udp' }), expect: 'peer:53' },
    { packet: outbound('10.96.0.10', 53, app), expect: 'pod:15053' },
    { packet: outbound('10.96.0.1', 443, app), expect: 'peer:443' },
    { packet: outbound('10.96.0.1', 53, app, { protocol: 'udp' }), expect: 'peer:53' },
    { packet: outbound('10.96.3.4', 9080, app), expect: 'pod:15001' },
    { packet: inbound(POD_IP6, 8080), expect: 'refused' },
  ]);
});

test('kernel agrees: TPROXY inbound capture with marks, exclude rules, outbound REDIRECT', { skip: tproxySkip ?? false }, async () => {
  await check(rules('tproxy.golden.txt'), [
    { packet: inbound(POD_IP, 8080), expect: 'pod:15006' },
    { packet: inbound(POD_IP, 15020), expect: 'pod:15020' },
    { packet: inbound(POD_IP, 15008), expect: 'pod:15008' },
    { packet: outbound('10.96.3.4', 9080, app), expect: 'pod:15001' },
    { packet: outbound('10.96.3.4', 6379, app), expect: 'peer:6379' },
    { packet: outbound('10.96.3.4', 9080, proxy), expect: 'peer:9080' },
    { packet: inbound(POD_IP6, 8080), expect: 'pod:15006' },
    // to the pod's own IP over lo: the proxy is redirected in OUTPUT; the app is not, nor TPROXYed on the way back in
    { packet: outbound(POD_IP, 8080, proxy), expect: 'pod:15006' },
    { packet: outbound(POD_IP, 8080, app), expect: 'pod:8080' },
  ]);
});

test('kernel agrees: packets to this host come back in over lo through PREROUTING and INPUT', { skip: skip ?? false }, async () => {
  const rs = parseIptables(
    '*mangle\n-A PREROUTING -i lo -p tcp --dport 15021 -j DROP\nCOMMIT\n*filter\n-A INPUT -i lo -p tcp --dport 8080 -j REJECT --reject-with tcp-reset\nCOMMIT\n' +
      '*nat\n-A OUTPUT -p tcp -d 10.96.3.4 -j REDIRECT --to-ports 8080\nCOMMIT\n',
    'loopback.rules',
  );
  await check(rs, [
    { packet: outbound('127.0.0.1', 8080, app), expect: 'refused' },
    { packet: outbound('10.96.3.4', 9080, app), expect: 'refused' },
    { packet: outbound('127.0.0.1', 15021, app), expect: 'timeout' },
    { packet: outbound('127.0.0.1', 15020, app), expect: 'pod:15020' },
    { packet: inbound(POD_IP, 8080), expect: 'pod:8080' },
  ]);
});

test('the model round-trips through the kernel: iptables-save of what we loaded parses to the same rules', { skip: skip ?? false }, () => {
  const rs = rules('tproxy.golden.txt');
  load(rs);
  const saved = must('ip', ['netns', 'exec', POD, 'iptables-save']);
  const back = parseIptables(saved, 'iptables-save');
  const texts = (r: Ruleset, table: string) => r.sections.find((s) => s.family === 'ipv4')!.tables.find((t) => t.name === table)!.chains.map((c) => [c.name, c.rules.map((r) => r.target?.name ?? '')]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  for (const table of ['nat', 'mangle']) assert.deepEqual(texts(back, table), texts(rs, table), table);
});
