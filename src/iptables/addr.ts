/** IPv4/IPv6 addresses and CIDRs as iptables prints them, compared as integers (BigInt for IPv6). */

export type Family = 'ipv4' | 'ipv6';

export interface Address {
  family: Family;
  value: bigint;
}

export interface Cidr {
  family: Family;
  /** Network bits (address already masked). */
  network: bigint;
  mask: bigint;
  /** Prefix length when the mask is contiguous, else null (iptables accepts any dotted mask). */
  prefix: number | null;
}

const V4_BITS = 32n;
const V6_BITS = 128n;

export function parseAddress(text: string): Address | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 'ipv4', value: v4 };
  const v6 = parseIpv6(text);
  if (v6 !== null) return { family: 'ipv6', value: v6 };
  return null;
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  if (!text.includes(':') || /[^0-9a-fA-F:.]/.test(text)) return null;
  let head = text;
  let tail4: bigint | null = null;
  // an embedded IPv4 tail such as ::127.0.0.53 or ::ffff:10.0.0.1
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail4 = parseIpv4(text.slice(lastColon + 1));
    if (tail4 === null) return null;
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const left = halves[0] === '' ? [] : halves[0].split(':');
  const right = halves.length === 2 ? (halves[1] === '' ? [] : halves[1].split(':')) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail4 !== null) value = (value & ~0xffffffffn) | tail4;
  return value;
}

function bits(family: Family): bigint {
  return family === 'ipv4' ? V4_BITS : V6_BITS;
}

function prefixMask(family: Family, prefix: number): bigint {
  const width = bits(family);
  const all = (1n << width) - 1n;
  return prefix === 0 ? 0n : (all << (width - BigInt(prefix))) & all;
}

/** `10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `::1/128` or a bare address (a host). Null when not valid. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const addr = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (!addr) return null;
  const width = Number(bits(addr.family));
  let mask: bigint;
  let prefix: number | null;
  if (slash < 0) {
    prefix = width;
    mask = prefixMask(addr.family, width);
  } else {
    const m = text.slice(slash + 1);
    if (/^\d{1,3}$/.test(m)) {
      prefix = Number(m);
      if (prefix > width) return null;
      mask = prefixMask(addr.family, prefix);
    } else {
      const dotted = parseAddress(m);
      if (!dotted || dotted.family !== addr.family) return null;
      mask = dotted.value;
      prefix = contiguousPrefix(mask, width);
    }
  }
  return { family: addr.family, network: addr.value & mask, mask, prefix };
}

function contiguousPrefix(mask: bigint, width: number): number | null {
  for (let p = 0; p <= width; p++) if (prefixMask(width === 32 ? 'ipv4' : 'ipv6', p) === mask) return p;
  return null;
}

export function cidrContains(cidr: Cidr, addr: Address): boolean {
  return cidr.family === addr.family && (addr.value & cidr.mask) === cidr.network;
}

export function isLoopback(addr: Address): boolean {
  if (addr.family === 'ipv4') return addr.value >> 24n === 127n;
  return addr.value === 1n;
}

/** Shortest text for an address (IPv6 with the longest zero run compressed). */
export function formatAddress(addr: Address): string {
  if (addr.family === 'ipv4') {
    return [24n, 16n, 8n, 0n].map((s) => String((addr.value >> s) & 255n)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((addr.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}
