/**
 * Walks one packet through a Ruleset as netfilter would, rule by rule: the first packet of a new
 * connection (the only one the nat table sees), through PREROUTING then INPUT (inbound) or OUTPUT
 * (outbound) of each table in hook priority order. Pure: ruleset + packet → steps and verdict.
 *
 * Matches are evaluated three-valued: a match meshctl does not simulate, or one that depends on a field
 * of the packet nobody gave (e.g. the source address), is "unknown". An unknown rule is assumed not to
 * match, and the verdict says so (`uncertain`), unless its target cannot change the outcome.
 */
import { cidrContains, formatAddress, isLoopback, parseAddress, parseCidr, type Address, type Family } from './addr.js';
import { idLabel, withPortLabel } from './labels.js';
import { findChain, type Chain, type Match, type Rule, type Ruleset, type Section, type Table, type Target } from './model.js';
import { parseMark } from './rule.js';

export interface PacketSpec {
  direction: 'inbound' | 'outbound';
  protocol: 'tcp' | 'udp';
  /** Destination address (IPv4 or IPv6). */
  dst: string;
  dport: number;
  src?: string;
  sport?: number;
  /** Owner of the sending socket (outbound only). Default 1000: an application, not the proxy. */
  uid?: number;
  /** Default: the uid's value when a uid is given, else 1000. */
  gid?: number;
  /** Interface the packet leaves by (outbound). Default: lo for loopback and the pod's own IP, else eth0. */
  outIface?: string;
  /** Interface the packet arrives on (inbound). Default eth0. */
  inIface?: string;
  /** The pod's IP: traffic to it leaves by lo; the default source of outbound packets. */
  podIp?: string;
  /** Packet mark before the first rule (default 0). */
  mark?: number;
}

/** The packet as traced, with defaults filled in and where each came from. */
export interface ResolvedPacket {
  direction: 'inbound' | 'outbound';
  family: Family;
  protocol: 'tcp' | 'udp';
  src: string | null;
  dst: string;
  sport: number | null;
  dport: number;
  uid: number | null;
  gid: number | null;
  inIface: string | null;
  outIface: string | null;
  mark: number;
  /** Which values meshctl chose, e.g. `out interface eth0 (not a loopback or pod address)`. */
  assumed: string[];
}

export interface TraceStep {
  hook: string;
  table: string;
  chain: string;
  /** 1-based rule number; null for the chain policy. */
  index: number | null;
  rule: string;
  /** Null when meshctl cannot tell (an unknown match, or a packet field that was not given). */
  matched: boolean | null;
  why: string;
  /** What happened next: `jump ISTIO_OUTPUT`, `REDIRECT to 15001`, `mark is now 0x539`, ... */
  action?: string;
  line?: number;
}

export interface Verdict {
  /** REDIRECT, TPROXY, DNAT, ACCEPT, DROP, REJECT. */
  target: string;
  /** The port the packet is redirected to; null when not redirected. */
  toPort: number | null;
  table: string | null;
  chain: string | null;
  /** The rule (or `-P CHAIN POLICY`) that decided; null when no rules apply at all. */
  rule: string | null;
  uncertain: boolean;
  /** `REDIRECT to 15001`, `RETURN → ACCEPT (not captured)`, `TPROXY to 15006 mark 0x539`. */
  summary: string;
  /** Why the verdict is uncertain, one reason per rule meshctl could not decide. */
  reasons: string[];
  toAddress?: string;
  mark?: string;
  /** For an uncertain verdict: the outcome had the first undecided rule matched instead. */
  ifMatched?: string;
  /** That rule, e.g. `rule 3 of nat ISTIO_OUTPUT`. */
  ifMatchedRule?: string;
}

export interface TraceResult {
  packet: ResolvedPacket;
  steps: TraceStep[];
  verdict: Verdict;
  notes: string[];
}

const DEFAULT_APP_ID = 1000;
const MAX_STEPS = 100_000;
const MAX_DEPTH = 64;

const HOOK_TABLES: Record<string, string[]> = {
  PREROUTING: ['raw', 'mangle', 'nat'],
  INPUT: ['mangle', 'filter', 'security', 'nat'],
  OUTPUT: ['raw', 'mangle', 'nat', 'filter', 'security'],
};

/** Fills in the defaults for a packet: interfaces by the issue's routing rule, uid/gid, source. */
export function resolvePacket(p: PacketSpec): ResolvedPacket {
  const dst = parseAddress(p.dst);
  if (!dst) throw new Error(`"${p.dst}" is not an IP address`);
  const assumed: string[] = [];
  const pod = p.podIp !== undefined ? parseAddress(p.podIp) : null;
  if (p.podIp !== undefined && !pod) throw new Error(`"${p.podIp}" is not an IP address`);
  let src: Address | null = null;
  if (p.src !== undefined) {
    src = parseAddress(p.src);
    if (!src) throw new Error(`"${p.src}" is not an IP address`);
    if (src.family !== dst.family) throw new Error(`source ${p.src} and destination ${p.dst} are not of the same IP family`);
  }
  const toSelf = pod !== null && pod.family === dst.family && pod.value === dst.value;
  let inIface: string | null = null;
  let outIface: string | null = null;
  let uid: number | null = null;
  let gid: number | null = null;
  if (p.direction === 'outbound') {
    if (p.outIface !== undefined) outIface = p.outIface;
    else if (isLoopback(dst) || toSelf) {
      outIface = 'lo';
      assumed.push(`out interface lo (${isLoopback(dst) ? 'loopback destination' : "the pod's own IP"})`);
    } else {
      outIface = 'eth0';
      assumed.push('out interface eth0 (not a loopback or pod address)');
    }
    if (src === null) {
      if (toSelf || (pod && outIface !== 'lo' && pod.family === dst.family)) {
        src = pod;
        assumed.push("source is the pod's IP");
      } else if (isLoopback(dst)) {
        src = dst.family === 'ipv4' ? parseAddress('127.0.0.1') : parseAddress('::1');
        assumed.push(`source ${formatAddress(src!)} (loopback)`);
      }
    }
    uid = p.uid ?? DEFAULT_APP_ID;
    // a process's gid is most often its uid's (istio-proxy runs as 1337:1337)
    gid = p.gid ?? p.uid ?? DEFAULT_APP_ID;
    if (p.uid === undefined) assumed.push(`uid ${DEFAULT_APP_ID} (an application; --uid ${1337} traces the proxy itself)`);
    if (p.gid === undefined) assumed.push(p.uid === undefined ? `gid ${DEFAULT_APP_ID}` : `gid ${gid} (the same as the uid; --gid to change)`);
  } else {
    inIface = p.inIface ?? 'eth0';
    if (p.inIface === undefined) assumed.push('in interface eth0');
  }
  return {
    direction: p.direction,
    family: dst.family,
    protocol: p.protocol,
    src: src ? formatAddress(src) : null,
    dst: formatAddress(dst),
    sport: p.sport ?? null,
    dport: p.dport,
    uid,
    gid,
    inIface,
    outIface,
    mark: p.mark ?? 0,
    assumed,
  };
}

interface State {
  packet: ResolvedPacket;
  inIface: string | null;
  outIface: string | null;
  dst: Address;
  src: Address | null;
  dport: number;
  mark: number;
  ctmark: number;
  untracked: boolean;
}

interface Decision {
  /** accept: leaves this table; the others end the packet's walk or capture it. */
  kind: 'accept' | 'drop' | 'reject' | 'redirect' | 'dnat' | 'tproxy';
  table: string;
  chain: string;
  rule: string;
  via: 'policy' | 'return' | 'target' | 'empty';
  target?: Target;
}

interface Undecided {
  key: string;
  reason: string;
}

/** Traces a packet through the rules of its address family. Throws on a packet that is not valid. */
export function traceIptables(ruleset: Ruleset, spec: PacketSpec): TraceResult {
  const packet = resolvePacket(spec);
  const first = walk(ruleset, packet, new Set());
  if (first.undecided.length > 0) {
    // the same walk had the first undecided rule matched: tells the reader what is at stake
    const alt = walk(ruleset, packet, new Set([first.undecided[0].key]));
    if (alt.verdict.summary !== first.verdict.summary) {
      first.verdict.ifMatched = alt.verdict.summary;
      const [table, chain, index] = first.undecided[0].key.split('/');
      first.verdict.ifMatchedRule = `rule ${index} of ${table} ${chain}`;
    }
  }
  return { packet, steps: first.steps, verdict: first.verdict, notes: first.notes };
}

function walk(ruleset: Ruleset, packet: ResolvedPacket, forced: Set<string>): { steps: TraceStep[]; verdict: Verdict; notes: string[]; undecided: Undecided[] } {
  const steps: TraceStep[] = [];
  const notes: string[] = [];
  const undecided: Undecided[] = [];
  const section: Section | undefined = ruleset.sections.find((s) => s.family === packet.family);
  const state: State = {
    packet,
    inIface: packet.inIface,
    outIface: packet.outIface,
    dst: parseAddress(packet.dst)!,
    src: packet.src !== null ? parseAddress(packet.src) : null,
    dport: packet.dport,
    mark: packet.mark,
    ctmark: 0,
    untracked: false,
  };
  const reasons: string[] = [];
  if (!section) {
    reasons.push(`the input has no ${packet.family === 'ipv4' ? 'IPv4' : 'IPv6'} rules; assumed there are none`);
    return {
      steps,
      notes,
      undecided,
      verdict: { target: 'ACCEPT', toPort: null, table: null, chain: null, rule: null, uncertain: true, summary: 'ACCEPT (not captured; no rules for this family)', reasons },
    };
  }
  const hooks = packet.direction === 'inbound' ? ['PREROUTING', 'INPUT'] : ['OUTPUT'];
  let capture: Decision | null = null;
  const decisions: Decision[] = [];
  let final: Decision | null = null;
  let looped = false;
  outer: for (let h = 0; h < hooks.length; h++) {
    const hook = hooks[h];
    for (const tableName of HOOK_TABLES[hook]) {
      const table = section.tables.find((t) => t.name === tableName);
      const chain = findChain(table, hook);
      if (!table || !chain) continue;
      if (tableName === 'nat' && state.untracked) {
        notes.push(`nat ${hook} skipped: the packet is untracked (CT --notrack), so NAT never sees it`);
        continue;
      }
      if (tableName === 'nat' && hook === 'INPUT') continue; // SNAT only: cannot change where the packet goes
      if (tableName === 'nat' && looped) continue; // NAT for this connection was decided in OUTPUT
      const d = walkTable(table, chain, hook, state, steps, undecided, forced);
      decisions.push(d);
      if (d.kind === 'drop' || d.kind === 'reject') {
        final = d;
        break outer;
      }
      if (d.kind === 'redirect' || d.kind === 'dnat' || d.kind === 'tproxy') {
        capture = d;
        applyNat(d, state, hook, packet);
      }
    }
    // a packet for this host (to lo, or redirected) comes back in over lo: PREROUTING and INPUT follow
    if (hook === 'OUTPUT' && (state.outIface === 'lo' || capture?.kind === 'redirect')) {
      looped = true;
      hooks.push('PREROUTING', 'INPUT');
      state.inIface = 'lo';
      state.outIface = null;
      notes.push('delivered on this host: the packet comes back in over lo through PREROUTING and INPUT (nat PREROUTING is skipped, NAT was decided in OUTPUT)');
    }
  }
  for (const u of undecided) reasons.push(u.reason);
  // not captured: the table that had something to say, nat first (it is what captures)
  const telling = decisions.filter((d) => d.via !== 'empty');
  const byTable = (name: string) => telling.find((d) => d.table === name);
  const decided = final ?? capture ?? byTable('nat') ?? byTable('mangle') ?? telling[telling.length - 1] ?? decisions[decisions.length - 1] ?? null;
  const verdict = toVerdict(decided, final ?? capture, state, reasons);
  if (packet.direction === 'outbound') notes.push('POSTROUTING is not walked: it cannot change where an outbound connection is captured');
  return { steps, verdict, notes, undecided };
}

function applyNat(d: Decision, state: State, hook: string, packet: ResolvedPacket): void {
  const port = toPortOf(d, state);
  if (d.kind === 'redirect') {
    // REDIRECT sends to the primary address of the incoming interface, loopback for local traffic
    if (hook === 'OUTPUT') state.dst = parseAddress(packet.family === 'ipv4' ? '127.0.0.1' : '::1')!;
    if (port !== null) state.dport = port;
  } else if (d.kind === 'dnat') {
    const to = String(d.target?.options['--to-destination'] ?? '');
    const { addr, port: p } = splitHostPort(to);
    const a = addr ? parseAddress(addr) : null;
    if (a) state.dst = a;
    if (p !== null) state.dport = p;
  }
}

function toPortOf(d: Decision, state: State): number | null {
  const o = d.target?.options ?? {};
  if (d.kind === 'redirect') {
    const v = o['--to-ports'] ?? o['--to-port'];
    return typeof v === 'string' ? Number(v.split('-')[0]) : state.dport;
  }
  if (d.kind === 'tproxy') {
    const v = o['--on-port'];
    return typeof v === 'string' && Number(v) !== 0 ? Number(v) : state.dport;
  }
  if (d.kind === 'dnat') {
    const { port } = splitHostPort(String(o['--to-destination'] ?? ''));
    return port;
  }
  return null;
}

function splitHostPort(s: string): { addr: string; port: number | null } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?/.exec(s);
  if (v6) return { addr: v6[1], port: v6[2] ? Number(v6[2]) : null };
  const m = /^([^:]*)(?::(\d+)(?:-\d+)?)?$/.exec(s);
  if (m) return { addr: m[1], port: m[2] ? Number(m[2]) : null };
  return { addr: s, port: null };
}

function toVerdict(decided: Decision | null, terminal: Decision | null, state: State, reasons: string[]): Verdict {
  const base = { uncertain: reasons.length > 0, reasons };
  if (!decided) {
    return { ...base, target: 'ACCEPT', toPort: null, table: null, chain: null, rule: null, summary: 'ACCEPT (not captured; no chains for this hook)' };
  }
  const where = { table: decided.table, chain: decided.chain, rule: decided.rule };
  if (terminal && terminal.kind !== 'accept') {
    const port = toPortOf(terminal, state);
    switch (terminal.kind) {
      case 'redirect':
        return { ...base, ...where, target: 'REDIRECT', toPort: port, summary: `REDIRECT to ${port}` };
      case 'tproxy': {
        const m = parseMark(String(terminal.target?.options['--tproxy-mark'] ?? '0'));
        const mark = m ? `0x${m.value.toString(16)}` : undefined;
        const v: Verdict = { ...base, ...where, target: 'TPROXY', toPort: port, summary: `TPROXY to ${port}${mark ? ` mark ${mark}` : ''}` };
        if (mark) v.mark = mark;
        return v;
      }
      case 'dnat': {
        const to = String(terminal.target?.options['--to-destination'] ?? '');
        return { ...base, ...where, target: 'DNAT', toPort: port, toAddress: splitHostPort(to).addr, summary: `DNAT to ${to}` };
      }
      case 'drop':
        return { ...base, ...where, target: 'DROP', toPort: null, summary: decided.via === 'policy' ? 'policy DROP' : 'DROP' };
      case 'reject':
        return { ...base, ...where, target: 'REJECT', toPort: null, summary: 'REJECT' };
    }
  }
  const how = decided.via === 'return' ? 'RETURN → ACCEPT' : decided.via === 'policy' ? 'policy ACCEPT' : decided.via === 'empty' ? 'ACCEPT' : 'ACCEPT';
  return { ...base, ...where, target: 'ACCEPT', toPort: null, summary: `${how} (not captured)` };
}

interface Frame {
  chain: Chain;
  next: number;
}

function walkTable(
  table: Table,
  start: Chain,
  hook: string,
  state: State,
  steps: TraceStep[],
  undecided: Undecided[],
  forced: Set<string>,
): Decision {
  const loop = findLoop(table, start);
  if (loop) throw new Error(`a loop between chains ${loop.join(' → ')} in the ${table.name} table (iptables refuses to load such rules)`);
  const stack: Frame[] = [{ chain: start, next: 0 }];
  let lastReturn: { chain: string; rule: string } | null = null;
  let count = 0;
  const step = (s: Omit<TraceStep, 'hook' | 'table'>) => steps.push({ hook, table: table.name, ...s });
  const policy = (): Decision => {
    const rule = `-P ${start.name} ${start.policy ?? 'ACCEPT'}`;
    const drop = start.policy === 'DROP';
    step({ chain: start.name, index: null, rule, matched: true, why: `end of built-in chain ${start.name}: its policy applies`, action: start.policy ?? 'ACCEPT' });
    if (lastReturn) return { kind: drop ? 'drop' : 'accept', table: table.name, chain: lastReturn.chain, rule: lastReturn.rule, via: 'return' };
    return { kind: drop ? 'drop' : 'accept', table: table.name, chain: start.name, rule, via: start.rules.length === 0 ? 'empty' : 'policy' };
  };
  while (stack.length > 0) {
    if (++count > MAX_STEPS) throw new Error(`the trace did not end after ${MAX_STEPS} rules: a loop between chains?`);
    const frame = stack[stack.length - 1];
    if (frame.next >= frame.chain.rules.length) {
      // fell off the end: built-in chain → policy; user chain → back to the caller
      stack.pop();
      if (stack.length === 0) return policy();
      continue;
    }
    const rule = frame.chain.rules[frame.next++];
    const key = `${table.name}/${frame.chain.name}/${rule.index}`;
    const ev = evaluateRule(rule, state, hook);
    let matched = ev.result;
    let why = ev.why;
    if (matched === null) {
      if (forced.has(key)) {
        matched = true;
        why = `${ev.why} (assumed to match for the alternative outcome)`;
      } else if (targetCannotMatter(rule.target)) {
        step({ chain: frame.chain.name, index: rule.index, rule: rule.text, matched: null, why: `${ev.why}; its target ${rule.target?.name ?? '(none)'} cannot change the outcome`, line: rule.origin.line });
        continue;
      } else {
        undecided.push({ key, reason: `rule ${rule.index} of ${table.name} ${frame.chain.name} ${ev.unknownWhat}; assumed not to match` });
        step({ chain: frame.chain.name, index: rule.index, rule: rule.text, matched: null, why: `${ev.why}; assumed not to match`, line: rule.origin.line });
        continue;
      }
    }
    if (!matched) {
      step({ chain: frame.chain.name, index: rule.index, rule: rule.text, matched: false, why, line: rule.origin.line });
      continue;
    }
    const t = rule.target;
    const here = { chain: frame.chain.name, index: rule.index, rule: rule.text, matched: true as const, why, line: rule.origin.line };
    const decision = (kind: Decision['kind']): Decision => ({ kind, table: table.name, chain: frame.chain.name, rule: rule.text, via: 'target', target: t ?? undefined });
    if (!t) {
      step({ ...here, action: 'no target: counted, continue' });
      continue;
    }
    if (t.kind === 'chain') {
      if (stack.length >= MAX_DEPTH) throw new Error(`chains nest deeper than ${MAX_DEPTH}: a loop between chains?`);
      const callee = findChain(table, t.name)!;
      step({ ...here, action: `${t.goto ? 'goto' : 'jump'} ${t.name}` });
      // -g replaces the current frame: the callee's end returns to whoever jumped to this chain
      if (t.goto) stack.pop();
      stack.push({ chain: callee, next: 0 });
      continue;
    }
    switch (t.name) {
      case 'ACCEPT':
        step({ ...here, action: `ACCEPT: leaves the ${table.name} table` });
        return decision('accept');
      case 'DROP':
        step({ ...here, action: 'DROP' });
        return decision('drop');
      case 'REJECT':
        step({ ...here, action: 'REJECT' });
        return decision('reject');
      case 'RETURN': {
        step({ ...here, action: stack.length === 1 ? `RETURN: back to the end of ${start.name}, whose policy applies` : `RETURN to ${stack[stack.length - 2].chain.name}` });
        lastReturn = { chain: frame.chain.name, rule: rule.text };
        stack.pop();
        if (stack.length === 0) return policy();
        continue;
      }
      case 'REDIRECT': {
        const to = t.options['--to-ports'] ?? t.options['--to-port'];
        step({ ...here, action: `REDIRECT to ${typeof to === 'string' ? withPortLabel(to) : `port ${state.dport} (unchanged)`}` });
        return decision('redirect');
      }
      case 'DNAT':
        step({ ...here, action: `DNAT to ${String(t.options['--to-destination'] ?? '?')}` });
        return decision('dnat');
      case 'SNAT':
      case 'MASQUERADE':
        step({ ...here, action: `${t.name}: source rewritten, destination unchanged` });
        return decision('accept');
      case 'TPROXY': {
        const m = parseMark(String(t.options['--tproxy-mark'] ?? ''));
        if (m) state.mark = (state.mark & ~m.mask & 0xffffffff) ^ m.value;
        const port = t.options['--on-port'];
        step({ ...here, action: `TPROXY to ${typeof port === 'string' ? withPortLabel(port) : 'the original port'}${m ? `, mark ${hex(state.mark)}` : ''} (delivered to a transparent socket there)` });
        return decision('tproxy');
      }
      case 'MARK':
        state.mark = applyMarkTarget(t, state.mark);
        step({ ...here, action: `mark is now ${hex(state.mark)}` });
        continue;
      case 'CONNMARK': {
        const o = t.options;
        const nfmask = markOpt(o['--nfmask'] ?? o['--mask']) ?? 0xffffffff;
        const ctmask = markOpt(o['--ctmask'] ?? o['--mask']) ?? 0xffffffff;
        if (o['--save-mark']) state.ctmark = ((state.ctmark & ~ctmask) ^ (state.mark & nfmask)) >>> 0;
        else if (o['--restore-mark']) state.mark = ((state.mark & ~nfmask) ^ (state.ctmark & ctmask)) >>> 0;
        else state.ctmark = applyMarkTarget(t, state.ctmark);
        step({ ...here, action: `connection mark ${hex(state.ctmark)}, packet mark ${hex(state.mark)}` });
        continue;
      }
      case 'CT':
      case 'NOTRACK':
        if (t.name === 'NOTRACK' || t.options['--notrack']) {
          state.untracked = true;
          step({ ...here, action: 'untracked: NAT will not see this connection' });
        } else {
          const zone = t.options['--zone'];
          step({ ...here, action: zone !== undefined ? `conntrack zone ${String(zone)}` : `CT ${Object.keys(t.options).join(' ')}` });
        }
        continue;
      case 'LOG':
      case 'NFLOG':
        step({ ...here, action: 'logged, continue' });
        continue;
    }
    // a target meshctl does not know: say so and carry on as if it did not end the walk
    undecided.push({ key, reason: `rule ${rule.index} of ${table.name} ${frame.chain.name} jumps to ${t.name}, not simulated; assumed to continue` });
    step({ ...here, matched: true, action: `${t.name} is not simulated; assumed to continue with the next rule` });
  }
  return policy();
}

/** A cycle of jumps/gotos reachable from `start`, as chain names, or null. */
function findLoop(table: Table, start: Chain): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (chain: Chain): string[] | null => {
    state.set(chain.name, 'open');
    path.push(chain.name);
    for (const r of chain.rules) {
      if (r.target?.kind !== 'chain') continue;
      const next = findChain(table, r.target.name);
      if (!next) continue;
      if (state.get(next.name) === 'open') return [...path.slice(path.indexOf(next.name)), next.name];
      if (!state.has(next.name)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    path.pop();
    state.set(chain.name, 'done');
    return null;
  };
  return visit(start);
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

function markOpt(v: string | true | undefined): number | null {
  if (typeof v !== 'string') return null;
  return parseMark(v)?.value ?? null;
}

function applyMarkTarget(t: Target, mark: number): number {
  const o = t.options;
  const get = (k: string) => (typeof o[k] === 'string' ? parseMark(o[k] as string) : null);
  let m = mark;
  const setx = get('--set-xmark');
  const set = get('--set-mark');
  const and = get('--and-mark');
  const or = get('--or-mark');
  const xor = get('--xor-mark');
  if (setx) m = (m & ~setx.mask) ^ setx.value;
  else if (set) m = (m & ~set.mask) | set.value;
  else if (and) m = m & and.value;
  else if (or) m = m | or.value;
  else if (xor) m = m ^ xor.value;
  return m >>> 0;
}

/** Targets that neither end the walk nor change anything a later rule reads. */
function targetCannotMatter(t: Target | null): boolean {
  if (!t) return true;
  if (t.name === 'LOG' || t.name === 'NFLOG') return true;
  return t.name === 'CT' && t.options['--notrack'] === undefined;
}

interface RuleEval {
  result: boolean | null;
  why: string;
  /** For an unknown result: what could not be decided, e.g. `uses -m conntrack --ctorigdstport 8443, not simulated`. */
  unknownWhat: string;
}

function evaluateRule(rule: Rule, state: State, hook: string): RuleEval {
  if (rule.matches.length === 0) return { result: true, why: 'no conditions: every packet matches', unknownWhat: '' };
  const facts: string[] = [];
  let unknown: { why: string; what: string } | null = null;
  for (const m of rule.matches) {
    const r = evaluateMatch(m, state, hook);
    if (r.result === false) return { result: false, why: `${m.text}: ${r.fact}`, unknownWhat: '' };
    if (r.result === null) {
      unknown ??= { why: `${m.text}: ${r.fact}`, what: r.what ?? `depends on ${r.fact}` };
      continue;
    }
    if (m.kind !== 'comment') facts.push(r.fact);
  }
  if (unknown) return { result: null, why: unknown.why, unknownWhat: unknown.what };
  return { result: true, why: facts.join('; ') || 'matched', unknownWhat: '' };
}

interface MatchEval {
  result: boolean | null;
  fact: string;
  what?: string;
}

function evaluateMatch(m: Match, state: State, hook: string): MatchEval {
  const p = state.packet;
  const pos = (holds: boolean, fact: string): MatchEval => ({ result: m.negated ? !holds : holds, fact });
  switch (m.kind) {
    case 'protocol':
      return pos(m.protocol === 'all' || m.protocol === p.protocol, `protocol ${p.protocol}`);
    case 'source':
    case 'destination': {
      const addr = m.kind === 'source' ? state.src : state.dst;
      const label = m.kind === 'source' ? 'source' : 'destination';
      if (!addr) return { result: null, fact: `the ${label} address is not known`, what: `depends on the ${label} address (pass --src)` };
      const inside = m.cidrs.some((c) => {
        const cidr = parseCidr(c);
        return cidr !== null && cidrContains(cidr, addr);
      });
      return pos(inside, `${label} ${formatAddress(addr)} is ${inside ? '' : 'not '}in ${m.cidrs.join(',')}`);
    }
    case 'inInterface':
    case 'outInterface': {
      const iface = m.kind === 'inInterface' ? state.inIface : state.outIface;
      const label = m.kind === 'inInterface' ? 'in interface' : 'out interface';
      if (iface === null) return pos(false, `no ${label} in ${hook}`);
      const wanted = m.name;
      const holds = wanted.endsWith('+') ? iface.startsWith(wanted.slice(0, -1)) : iface === wanted;
      return pos(holds, `${label} is ${iface}`);
    }
    case 'fragment':
      return pos(false, 'the first packet of a connection is not a fragment');
    case 'port': {
      if (m.module !== 'multiport' && m.module !== p.protocol) return { result: false, fact: `-m ${m.module} needs a ${m.module} packet, this is ${p.protocol}` };
      const check = (port: number) => m.ranges.some(([lo, hi]) => port >= lo && port <= hi);
      const list = m.ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}:${hi}`)).join(',');
      const dport = state.dport;
      const sport = p.sport;
      if (m.field === 'dport') return pos(check(dport), `destination port ${withPortLabel(dport)} is ${check(dport) ? '' : 'not '}in ${list}`);
      if (sport === null) return { result: null, fact: 'the source port is not known', what: 'depends on the source port (pass --sport)' };
      if (m.field === 'sport') return pos(check(sport), `source port ${sport} is ${check(sport) ? '' : 'not '}in ${list}`);
      const either = check(dport) || check(sport);
      return pos(either, `ports ${sport}→${dport} ${either ? '' : 'not '}in ${list}`);
    }
    case 'owner': {
      if (hook !== 'OUTPUT' && hook !== 'POSTROUTING') return pos(false, `no socket owner in ${hook}`);
      const id = m.field === 'uid' ? p.uid : p.gid;
      if (id === null) return { result: null, fact: `the ${m.field} is not known`, what: `depends on the sender's ${m.field}` };
      const holds = id >= m.range[0] && id <= m.range[1];
      const label = idLabel(id);
      return pos(holds, `${m.field} ${id}${label ? ` (${label})` : ''}`);
    }
    case 'socketExists':
      if (hook === 'OUTPUT') return pos(true, 'locally generated: it has a socket');
      return { result: null, fact: 'whether a socket exists is not simulated', what: `uses ${m.text}, not simulated` };
    case 'mark':
      return pos((state.mark & m.mask) >>> 0 === m.value, `packet mark is ${hex(state.mark)}`);
    case 'connmark':
      return pos((state.ctmark & m.mask) >>> 0 === m.value, `connection mark is ${hex(state.ctmark)}`);
    case 'ctstate': {
      const st = state.untracked ? 'UNTRACKED' : 'NEW';
      const known = m.states.every((s) => ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED'].includes(s));
      if (!known) return { result: null, fact: `state ${m.states.join(',')} is not simulated`, what: `uses ${m.text}, not simulated` };
      return pos(m.states.includes(st), `connection state is ${st} (the first packet of a connection)`);
    }
    case 'tcpFlags': {
      if (p.protocol !== 'tcp') return { result: false, fact: 'not a TCP packet' };
      const flags = new Set(['SYN']);
      const expand = (l: string[]) => (l.includes('ALL') ? ['SYN', 'ACK', 'FIN', 'RST', 'URG', 'PSH'] : l.filter((f) => f !== 'NONE'));
      const holds = expand(m.mask).every((f) => flags.has(f) === expand(m.comp).includes(f));
      return pos(holds, 'the first packet of a TCP connection is a SYN');
    }
    case 'comment':
      return { result: true, fact: `comment "${m.comment}"` };
    case 'unknown':
      return { result: null, fact: 'not simulated', what: `uses ${m.text}, not simulated` };
  }
}


/**
 * The rules that moved the packet (matched, with an action: jumps, marks, the deciding target), as
 * `table CHAIN #n: rule → action`: a short trail for a request trace's iptables step.
 */
export function traceTrail(r: TraceResult): string[] {
  return r.steps
    .filter((s) => s.matched === true && s.action !== undefined)
    .map((s) => `${s.table} ${s.chain}${s.index === null ? ' policy' : ` #${s.index}`}: ${s.rule} → ${s.action}`);
}
