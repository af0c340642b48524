/** `meshctl iptables` and `meshctl iptables trace`: source → parse → (trace) → render. */
import { MeshctlError, UsageError } from '../errors.js';
import type { KubeOptions } from '../kube/options.js';
import { colours } from '../output/colour.js';
import { renderData } from '../output/format.js';
import { writeStdout } from '../output/write.js';
import { parseAddress } from '../iptables/addr.js';
import { parseIptables } from '../iptables/parse.js';
import { renderRules, renderTrace } from '../iptables/render.js';
import { fileSource, podSource, type IptablesSource, type LoadedRules } from '../iptables/source.js';
import { traceIptables, type PacketSpec } from '../iptables/trace.js';
import type { Ruleset } from '../iptables/model.js';

export interface IptablesOptions extends Partial<KubeOptions> {
  file?: string;
  bundle?: string;
  output: 'short' | 'json' | 'yaml';
  table?: string;
  family?: 'ipv4' | 'ipv6';
}

export interface IptablesTraceOptions extends Partial<KubeOptions> {
  file?: string;
  bundle?: string;
  output: 'short' | 'json' | 'yaml';
  table?: string;
  dst: string;
  src?: string;
  proto: string;
  uid?: string;
  gid?: string;
  outIface?: string;
  inIface?: string;
  direction: string;
  podIp?: string;
  mark?: string;
}

function sourceFor(pod: string | undefined, opts: { file?: string; bundle?: string } & Partial<KubeOptions>): IptablesSource {
  if (pod && opts.file) throw new UsageError('give either a pod or -f FILE, not both');
  if (opts.bundle !== undefined && opts.file) throw new UsageError('give either --bundle (with a pod) or -f FILE, not both');
  if (opts.file) return fileSource(opts.file);
  if (!pod) throw new UsageError('give a pod, or -f FILE with saved rules (iptables-save, iptables -S or istio-init logs)');
  return podSource(pod, { istioNamespace: 'istio-system', timeout: '30s', ...opts });
}

async function load(pod: string | undefined, opts: { file?: string; table?: string } & Partial<KubeOptions>): Promise<{ loaded: LoadedRules; rules: Ruleset }> {
  const loaded = await sourceFor(pod, opts).load();
  const rules = parseIptables(loaded.text, loaded.name, { table: opts.table });
  for (const w of rules.warnings) process.stderr.write(`Warning: ${w}\n`);
  return { loaded, rules };
}

export async function iptablesCommand(pod: string | undefined, opts: IptablesOptions): Promise<void> {
  const { loaded, rules } = await load(pod, opts);
  if (opts.output !== 'short') {
    // -t and --family narrow the model too
    const sections = rules.sections
      .filter((s) => !opts.family || s.family === opts.family)
      .map((s) => ({ ...s, tables: s.tables.filter((t) => !opts.table || t.name === opts.table) }));
    writeStdout(renderData({ ...rules, sections, source: loaded.description }, opts.output));
    return;
  }
  writeStdout(renderRules(rules, loaded.description, colours(), { table: opts.table, family: opts.family }));
}

export async function iptablesTraceCommand(pod: string | undefined, opts: IptablesTraceOptions): Promise<void> {
  const packet = packetFromOptions(opts);
  const { loaded, rules } = await load(pod, opts);
  if (packet.podIp === undefined && loaded.podIp !== undefined) packet.podIp = loaded.podIp;
  let result;
  try {
    result = traceIptables(rules, packet);
  } catch (err) {
    throw new MeshctlError(`${loaded.name}: ${(err as Error).message}`);
  }
  if (opts.output !== 'short') {
    writeStdout(renderData({ source: loaded.description, ...result }, opts.output));
    return;
  }
  writeStdout(renderTrace(result, loaded.description, colours()));
}

/** Flags → a packet, with usage errors (exit 2) for anything malformed. */
export function packetFromOptions(opts: IptablesTraceOptions): PacketSpec {
  const dst = splitEndpoint(opts.dst, '--dst', true);
  const direction = opts.direction;
  if (direction !== 'inbound' && direction !== 'outbound') throw new UsageError(`--direction must be inbound or outbound, not "${direction}"`);
  const proto = opts.proto.toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp') throw new UsageError(`--proto must be tcp or udp, not "${opts.proto}"`);
  const packet: PacketSpec = { direction, protocol: proto, dst: dst.addr, dport: dst.port! };
  if (opts.src !== undefined) {
    const src = splitEndpoint(opts.src, '--src', false);
    packet.src = src.addr;
    if (src.port !== null) packet.sport = src.port;
    if (parseAddress(src.addr)!.family !== parseAddress(dst.addr)!.family) throw new UsageError('--src and --dst must both be IPv4 or both IPv6');
  }
  if (opts.uid !== undefined) packet.uid = id(opts.uid, '--uid');
  if (opts.gid !== undefined) packet.gid = id(opts.gid, '--gid');
  if (opts.outIface !== undefined) packet.outIface = iface(opts.outIface, '--out-iface');
  if (opts.inIface !== undefined) packet.inIface = iface(opts.inIface, '--in-iface');
  if (opts.podIp !== undefined) {
    if (!parseAddress(opts.podIp)) throw new UsageError(`--pod-ip: "${opts.podIp}" is not an IP address`);
    packet.podIp = opts.podIp;
  }
  if (opts.mark !== undefined) {
    const m = /^(0x[0-9a-f]+|\d+)$/i.test(opts.mark) ? Number(opts.mark) : NaN;
    if (!(m >= 0 && m <= 0xffffffff)) throw new UsageError(`--mark: "${opts.mark}" is not a mark (a number, or 0x... hex)`);
    packet.mark = m;
  }
  return packet;
}

/** `10.0.0.1:80`, `[fd00::1]:80`; the port is optional only where `needPort` is false. */
function splitEndpoint(text: string, flag: string, needPort: boolean): { addr: string; port: number | null } {
  if (parseAddress(text)) {
    if (needPort) throw new UsageError(`${flag}: give the port too: IP:PORT, or [IPv6]:PORT`);
    return { addr: text, port: null };
  }
  let addr = text;
  let port: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) {
    addr = v6[1];
    port = v6[2];
  } else if (/^[^:]+:\d+$/.test(text)) {
    [addr, port] = text.split(':');
  } else if (/^[^:]+:/.test(text)) {
    throw new UsageError(`${flag}: "${text}" is not IP:PORT`);
  }
  if (!parseAddress(addr)) throw new UsageError(`${flag}: "${addr}" is not an IP address${flag === '--dst' ? ' (use IP:PORT, [IPv6]:PORT)' : ''}`);
  if (port === undefined) {
    if (needPort) throw new UsageError(`${flag}: give the port too: IP:PORT, or [IPv6]:PORT`);
    return { addr, port: null };
  }
  const n = Number(port);
  if (!(n >= 0 && n <= 65535)) throw new UsageError(`${flag}: port ${port} is not between 0 and 65535`);
  return { addr, port: n };
}

function id(v: string, flag: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw new UsageError(`${flag}: "${v}" is not a numeric id`);
  return Number(v);
}

function iface(v: string, flag: string): string {
  if (!/^[A-Za-z0-9_.@:+-]{1,15}$/.test(v)) throw new UsageError(`${flag}: "${v}" is not an interface name`);
  return v;
}
