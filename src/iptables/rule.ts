/** One rule's specification (`-p tcp -m owner --uid-owner 1337 -j RETURN`) → parsed matches and target. */
import { parseCidr } from './addr.js';
import type { Match, PortRange, Target } from './model.js';

/** A line that cannot be understood; the file parser adds file:line. */
export class RuleSyntaxError extends Error {}

/** Splits like a shell would for iptables-save output: whitespace, "double" and 'single' quotes, \" escapes. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) break;
    let tok = '';
    while (i < text.length && !/\s/.test(text[i])) {
      const c = text[i];
      if (c === '"' || c === "'") {
        const end = findClosingQuote(text, i + 1, c);
        if (end < 0) throw new RuleSyntaxError(`unbalanced ${c} quote`);
        const inner = text.slice(i + 1, end);
        tok += c === '"' ? inner.replace(/\\(["\\])/g, '$1') : inner;
        i = end + 1;
      } else if (c === '\\' && i + 1 < text.length) {
        tok += text[i + 1];
        i += 2;
      } else {
        tok += c;
        i++;
      }
    }
    tokens.push(tok);
  }
  return tokens;
}

function findClosingQuote(text: string, from: number, quote: string): number {
  for (let i = from; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') {
      i++;
      continue;
    }
    if (text[i] === quote) return i;
  }
  return -1;
}

/** Quotes a token again for display when it needs it (comments with spaces). */
export function quoteToken(tok: string): string {
  if (tok !== '' && !/[\s"'\\]/.test(tok)) return tok;
  return `"${tok.replace(/(["\\])/g, '\\$1')}"`;
}

export function parseNumber(text: string): number | null {
  if (/^0x[0-9a-f]+$/i.test(text)) return parseInt(text, 16);
  if (/^\d+$/.test(text)) return Number(text);
  return null;
}

/** `1337`, `0x539/0xffffffff`: a mark value and mask (full mask when absent). */
export function parseMark(text: string): { value: number; mask: number } | null {
  const [v, m, extra] = text.split('/');
  if (extra !== undefined) return null;
  const value = parseNumber(v);
  const mask = m === undefined ? 0xffffffff : parseNumber(m);
  if (value === null || mask === null || value > 0xffffffff || mask > 0xffffffff) return null;
  return { value, mask };
}

function parsePort(text: string): number | null {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  return n >= 0 && n <= 65535 ? n : null;
}

/** `80`, `1000:2000`, `:1024`, `1024:` (tcp/udp) or `53,15008,8000:9000` (multiport). */
export function parsePorts(text: string, list: boolean): PortRange[] | null {
  const parts = list ? text.split(',') : [text];
  const ranges: PortRange[] = [];
  for (const part of parts) {
    const colon = part.indexOf(':');
    if (colon < 0) {
      const p = parsePort(part);
      if (p === null) return null;
      ranges.push([p, p]);
    } else {
      const lo = colon === 0 ? 0 : parsePort(part.slice(0, colon));
      const hi = colon === part.length - 1 ? 65535 : parsePort(part.slice(colon + 1));
      if (lo === null || hi === null || lo > hi) return null;
      ranges.push([lo, hi]);
    }
  }
  return ranges;
}

function parseIdRange(text: string): [number, number] | null {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) return null;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  return lo <= hi ? [lo, hi] : null;
}

const BUILTIN_TARGETS = new Set(['ACCEPT', 'DROP', 'RETURN', 'QUEUE']);
/** Target extensions meshctl knows the meaning of (simulated or known to leave the verdict alone). */
export const KNOWN_EXTENSIONS = new Set([
  'REDIRECT', 'TPROXY', 'DNAT', 'SNAT', 'MASQUERADE', 'REJECT',
  'MARK', 'CONNMARK', 'CT', 'NOTRACK', 'LOG', 'NFLOG',
]);

export interface ParsedSpec {
  matches: Match[];
  target: Target | null;
  counters?: { packets: number; bytes: number };
  /** The spec before the target, as written: what the MATCH column shows. */
  matchText: string;
}

type DistOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type MatchBody = DistOmit<Match, 'text' | 'negated'>;
type Handler = (value: () => string, negated: boolean, module: string) => MatchBody;

const PORT_OPTIONS: Record<string, 'dport' | 'sport'> = {
  '--dport': 'dport', '--destination-port': 'dport', '--sport': 'sport', '--source-port': 'sport',
};
const MULTIPORT_OPTIONS: Record<string, 'dport' | 'sport' | 'port'> = {
  '--dports': 'dport', '--destination-ports': 'dport', '--sports': 'sport', '--source-ports': 'sport', '--ports': 'port',
};

function portHandlers(list: boolean, options: Record<string, 'dport' | 'sport' | 'port'>): Record<string, Handler> {
  const out: Record<string, Handler> = {};
  for (const [opt, field] of Object.entries(options)) {
    out[opt] = (value, _neg, module) => {
      const v = value();
      const ranges = parsePorts(v, list);
      if (!ranges) throw new RuleSyntaxError(`${opt}: "${v}" is not a port${list ? ' list' : ' or range'}`);
      return { kind: 'port', field, module, ranges };
    };
  }
  return out;
}

const TCP_FLAGS = new Set(['SYN', 'ACK', 'FIN', 'RST', 'URG', 'PSH', 'ALL', 'NONE']);
function flagList(opt: string, v: string): string[] {
  const flags = v.split(',');
  for (const f of flags) if (!TCP_FLAGS.has(f)) throw new RuleSyntaxError(`${opt}: unknown TCP flag "${f}"`);
  return flags;
}

function markHandler(kind: 'mark' | 'connmark'): Handler {
  return (value) => {
    const v = value();
    const mark = parseMark(v);
    if (!mark) throw new RuleSyntaxError(`--mark: "${v}" is not a mark (value[/mask])`);
    return { kind, ...mark };
  };
}

function ctstateHandler(opt: string): Handler {
  return (value) => {
    const v = value();
    if (!/^[A-Za-z,]+$/.test(v)) throw new RuleSyntaxError(`${opt}: "${v}" is not a list of connection states`);
    return { kind: 'ctstate', states: v.split(',').map((s) => s.toUpperCase()) };
  };
}

function ownerHandler(field: 'uid' | 'gid'): Handler {
  return (value) => {
    const v = value();
    const range = parseIdRange(v);
    if (!range) throw new RuleSyntaxError(`--${field}-owner: "${v}" is not a numeric id (iptables-save prints numbers)`);
    return { kind: 'owner', field, range };
  };
}

const MODULES: Record<string, Record<string, Handler>> = {
  tcp: {
    ...portHandlers(false, PORT_OPTIONS),
    '--syn': () => ({ kind: 'tcpFlags', mask: ['SYN', 'RST', 'ACK', 'FIN'], comp: ['SYN'] }),
    '--tcp-flags': (value) => {
      const mask = flagList('--tcp-flags', value());
      const comp = flagList('--tcp-flags', value());
      return { kind: 'tcpFlags', mask, comp };
    },
  },
  udp: portHandlers(false, PORT_OPTIONS),
  multiport: portHandlers(true, MULTIPORT_OPTIONS),
  owner: {
    '--uid-owner': ownerHandler('uid'),
    '--gid-owner': ownerHandler('gid'),
    '--socket-exists': () => ({ kind: 'socketExists' }),
  },
  mark: { '--mark': markHandler('mark') },
  connmark: { '--mark': markHandler('connmark') },
  conntrack: { '--ctstate': ctstateHandler('--ctstate') },
  state: { '--state': ctstateHandler('--state') },
  comment: { '--comment': (value) => ({ kind: 'comment', comment: value() }) },
};

const PROTOCOL_NAMES: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'ipv6-icmp', '132': 'sctp', '0': 'all' };

export function normalizeProtocol(p: string): string {
  const lower = p.toLowerCase();
  return PROTOCOL_NAMES[lower] ?? lower;
}

/**
 * Parses the tokens of a rule after `-A CHAIN` (or `-I CHAIN N`). `isChain` tells whether a -j name is a
 * chain of the same table; it may be called later again (see resolveTargetKind) when chains are declared after use.
 */
export function parseRuleSpec(tokens: string[]): ParsedSpec {
  const matches: Match[] = [];
  let target: Target | null = null;
  let counters: ParsedSpec['counters'];
  const loaded: string[] = [];
  let protocolModule: string | null = null;
  let pendingModuleText = '';
  let negateNext = false;
  let targetStart = tokens.length;
  let i = 0;
  /** The unknown match collecting options of the current unknown module, if any. */
  let openUnknown: Extract<Match, { kind: 'unknown' }> | null = null;

  const take = (opt: string): string => {
    if (i >= tokens.length) throw new RuleSyntaxError(`${opt} needs a value`);
    return tokens[i++];
  };
  const push = (m: MatchBody, text: string, negated: boolean) => {
    const full = (pendingModuleText ? pendingModuleText + ' ' : '') + text;
    pendingModuleText = '';
    matches.push({ ...m, negated, text: full } as Match);
  };
  const standardValue = (opt: string): { value: string; negated: boolean } => {
    let negated = negateNext;
    negateNext = false;
    let value = take(opt);
    if (value === '!') {
      // old syntax: `-s ! 10.0.0.0/8`
      negated = !negated;
      value = take(opt);
    }
    return { value, negated };
  };
  const neg = (negated: boolean) => (negated ? '! ' : '');

  while (i < tokens.length) {
    const tok = tokens[i++];
    if (tok === '!') {
      negateNext = !negateNext;
      continue;
    }
    switch (tok) {
      case '-p':
      case '--protocol': {
        const { value, negated } = standardValue(tok);
        const protocol = normalizeProtocol(value);
        if (!/^[a-z0-9-]+$/.test(protocol)) throw new RuleSyntaxError(`-p: "${value}" is not a protocol`);
        protocolModule = protocol === 'tcp' || protocol === 'udp' ? protocol : null;
        push({ kind: 'protocol', protocol }, `${neg(negated)}-p ${value}`, negated);
        openUnknown = null;
        continue;
      }
      case '-s': case '--source': case '--src':
      case '-d': case '--destination': case '--dst': {
        const { value, negated } = standardValue(tok);
        const cidrs = value.split(',');
        for (const c of cidrs) if (!parseCidr(c)) throw new RuleSyntaxError(`${tok}: "${c}" is not an address or CIDR`);
        const kind = tok === '-s' || tok === '--source' || tok === '--src' ? 'source' : 'destination';
        push({ kind, cidrs }, `${neg(negated)}${kind === 'source' ? '-s' : '-d'} ${value}`, negated);
        openUnknown = null;
        continue;
      }
      case '-i': case '--in-interface':
      case '-o': case '--out-interface': {
        const { value, negated } = standardValue(tok);
        const kind = tok === '-i' || tok === '--in-interface' ? 'inInterface' : 'outInterface';
        push({ kind, name: value }, `${neg(negated)}${kind === 'inInterface' ? '-i' : '-o'} ${value}`, negated);
        openUnknown = null;
        continue;
      }
      case '-f': case '--fragment': {
        const negated = negateNext;
        negateNext = false;
        push({ kind: 'fragment' }, `${neg(negated)}-f`, negated);
        continue;
      }
      case '-4': case '-6': case '--ipv4': case '--ipv6':
        continue;
      case '-c': case '--set-counters': {
        const packets = parseNumber(take(tok));
        const bytes = parseNumber(take(tok));
        if (packets === null || bytes === null) throw new RuleSyntaxError(`${tok} needs two numbers`);
        counters = { packets, bytes };
        continue;
      }
      case '-m': case '--match': {
        const module = take(tok);
        if (negateNext) throw new RuleSyntaxError(`"!" cannot negate -m ${module}`);
        loaded.push(module);
        if (MODULES[module]) {
          pendingModuleText += (pendingModuleText ? ' ' : '') + `-m ${module}`;
          openUnknown = null;
        } else {
          openUnknown = { kind: 'unknown', module, negated: false, text: `-m ${module}` };
          matches.push(openUnknown);
        }
        continue;
      }
      case '-j': case '--jump':
      case '-g': case '--goto': {
        if (target) throw new RuleSyntaxError('more than one target (-j/-g)');
        targetStart = i - 1;
        const { end, ...parsedTarget } = parseTarget(tokens, i - 1);
        target = parsedTarget;
        i = end;
        openUnknown = null;
        continue;
      }
    }
    if (!tok.startsWith('-')) throw new RuleSyntaxError(`unexpected "${tok}"`);
    // a module option: the latest module that knows it, then the protocol's implicit module
    const negated = negateNext;
    negateNext = false;
    const owner = [...loaded].reverse().find((m) => MODULES[m]?.[tok]) ?? (protocolModule && MODULES[protocolModule][tok] ? protocolModule : undefined);
    if (owner) {
      const start = i - 1;
      let inlineNeg = false;
      const value = () => {
        let v = take(tok);
        if (v === '!') {
          inlineNeg = true; // old syntax: `--dport ! 53`
          v = take(tok);
        }
        return v;
      };
      const m = MODULES[owner][tok](value, negated, owner);
      const isNeg = negated !== inlineNeg;
      const text = `${neg(isNeg)}${tokens.slice(start, i).filter((t) => t !== '!').map(quoteToken).join(' ')}`;
      push(m, text, isNeg);
      openUnknown = null;
      continue;
    }
    // an option of a module meshctl does not simulate: keep it verbatim with its values
    const values: string[] = [];
    while (i < tokens.length && (!tokens[i].startsWith('-') || /^-\d/.test(tokens[i])) && tokens[i] !== '!') values.push(tokens[i++]);
    const text = [negated ? '!' : '', tok, ...values.map(quoteToken)].filter(Boolean).join(' ');
    const module = openUnknown?.module ?? loaded[loaded.length - 1];
    if (!module) throw new RuleSyntaxError(`unknown option ${tok} (no -m module loaded for it)`);
    if (openUnknown) {
      openUnknown.text += ' ' + text;
    } else {
      openUnknown = { kind: 'unknown', module, negated: false, text: `${pendingModuleText ? pendingModuleText + ' ' : ''}${text}` };
      pendingModuleText = '';
      matches.push(openUnknown);
    }
  }
  if (negateNext) throw new RuleSyntaxError('"!" at the end of the rule negates nothing');
  const matchText = tokens.slice(0, targetStart).map(quoteToken).join(' ').replace(/(^|\s)-c \d+ \d+/, '').trim();
  const spec: ParsedSpec = { matches, target, matchText };
  if (counters) spec.counters = counters;
  return spec;
}

/** Reads `-j NAME [options...]` starting at tokens[at]; options run until a standard match option. */
function parseTarget(tokens: string[], at: number): Target & { end: number } {
  const goto = tokens[at] === '-g' || tokens[at] === '--goto';
  const name = tokens[at + 1];
  if (name === undefined || name.startsWith('-')) throw new RuleSyntaxError(`${tokens[at]} needs a target`);
  const options: Record<string, string | true> = {};
  let i = at + 2;
  while (i < tokens.length && tokens[i].startsWith('--')) {
    const opt = tokens[i++];
    if (i < tokens.length && !tokens[i].startsWith('--') && !isStandardOption(tokens[i])) options[opt] = tokens[i++];
    else options[opt] = true;
  }
  const kind = BUILTIN_TARGETS.has(name) ? 'builtin' : KNOWN_EXTENSIONS.has(name) ? 'extension' : 'unknown';
  validateTarget(name, options);
  const text = tokens.slice(at, i).map(quoteToken).join(' ');
  return { name, kind, goto, options, text, end: i };
}

function isStandardOption(tok: string): boolean {
  return /^(-[psdiomjgfc]|!)$/.test(tok);
}

function validateTarget(name: string, options: Record<string, string | true>): void {
  const need = (opt: string, ok: (v: string) => boolean, what: string) => {
    const v = options[opt];
    if (v === undefined) return;
    if (v === true || !ok(v)) throw new RuleSyntaxError(`${name} ${opt}: "${v === true ? '' : v}" is not ${what}`);
  };
  const portRange = (v: string) => /^\d+(-\d+)?$/.test(v) && v.split('-').every((p) => Number(p) <= 65535);
  if (name === 'REDIRECT') {
    need('--to-ports', portRange, 'a port or port range');
    need('--to-port', portRange, 'a port or port range');
  }
  if (name === 'TPROXY') {
    if (options['--on-port'] === undefined && options['--on-ip'] === undefined) throw new RuleSyntaxError('TPROXY needs --on-port or --on-ip');
    need('--on-port', (v) => /^\d+$/.test(v) && Number(v) <= 65535, 'a port');
    need('--tproxy-mark', (v) => parseMark(v) !== null, 'a mark');
  }
  if (name === 'MARK' || name === 'CONNMARK') {
    for (const opt of ['--set-mark', '--set-xmark', '--and-mark', '--or-mark', '--xor-mark', '--nfmask', '--ctmask', '--mask']) {
      need(opt, (v) => parseMark(v) !== null, 'a mark');
    }
  }
}

/** Builtin/extension names win; otherwise a declared chain of the table, else unknown. */
export function resolveTargetKind(target: Target, isChain: (name: string) => boolean): void {
  if (target.kind === 'builtin' || target.kind === 'extension') return;
  target.kind = isChain(target.name) ? 'chain' : 'unknown';
}
