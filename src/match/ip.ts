import { isIP } from 'node:net';

/** An IP address as a number with its family, for prefix arithmetic. */
export interface Ip {
  family: 4 | 6;
  value: bigint;
}

export function parseIp(text: string): Ip | null {
  const s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const family = isIP(s);
  if (family === 4) {
    return { family: 4, value: s.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n) };
  }
  if (family === 6) {
    let str = s;
    // IPv4-mapped tail (::ffff:1.2.3.4)
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(str);
    if (v4) {
      const n = parseIp(v4[1])!.value;
      str = str.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
    }
    const [head, tail] = str.split('::');
    const h = head ? head.split(':') : [];
    const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
    const groups = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    return { family: 6, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n) };
  }
  return null;
}

/** Does `ip` fall inside `prefix/len`? Different families never match. */
export function inCidr(ip: Ip, prefix: string, len: number): boolean {
  const p = parseIp(prefix);
  if (!p || p.family !== ip.family) return false;
  const bits = ip.family === 4 ? 32 : 128;
  if (len <= 0) return true;
  if (len > bits) return false;
  const shift = BigInt(bits - len);
  return ip.value >> shift === p.value >> shift;
}

/** envoy.config.core.v3.CidrRange as `prefix/len` with its length. */
export function cidrOf(range: { address_prefix?: string; prefix_len?: number } | undefined): { text: string; prefix: string; len: number } {
  const prefix = String(range?.address_prefix ?? '');
  const fam = isIP(prefix);
  const len = range?.prefix_len === undefined || range?.prefix_len === null ? (fam === 6 ? 128 : 32) : Number(range.prefix_len);
  return { text: `${prefix}/${len}`, prefix, len };
}

export function isLoopback(ip: Ip): boolean {
  if (ip.family === 4) return ip.value >> 24n === 127n;
  return ip.value === 1n || ip.value >> 32n === 0xffffn && ip.value >> 24n === 0xffff7fn;
}

export function isAnyAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '[::]';
}

/** `host:port`, an IPv6 host in brackets (Go's net.JoinHostPort). */
export function joinHostPort(host: string, port: string | number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
