import { InvalidArgumentError } from 'commander';

/** Argument parsers shared by several commands' options. */

/** A repeatable option's values, in order. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}

/** A destination or service port, 1-65535 (portNumber also takes 0). */
export function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a port number (1-65535)');
  return n;
}

/** An IPv4 or IPv6 address (brackets dropped). */
export function ip(value: string): string {
  const v = value.replace(/^\[|\]$/g, '');
  if (!/^[0-9a-fA-F:.]+$/.test(v) || !(v.includes('.') || v.includes(':'))) throw new InvalidArgumentError('expected an IP address');
  return v;
}
