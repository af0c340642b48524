/**
 * The parsed model of a pod's netfilter rules: sections (one per address family) → tables → chains →
 * rules with parsed matches and a target. Plain data: it is also what `-o json|yaml` prints.
 */
import type { Family } from './addr.js';

export type { Family } from './addr.js';

/** Where a rule came from, for messages like `rules.txt:12`. */
export interface Origin {
  file: string;
  line: number;
}

export type PortRange = [number, number];

interface MatchBase {
  /** True for `! <match>`. */
  negated: boolean;
  /** The match exactly as written in the rule (module loader included, e.g. `-m owner --uid-owner 1337`). */
  text: string;
}

export type Match =
  | (MatchBase & { kind: 'protocol'; protocol: string })
  | (MatchBase & { kind: 'source' | 'destination'; cidrs: string[] })
  | (MatchBase & { kind: 'inInterface' | 'outInterface'; name: string })
  | (MatchBase & { kind: 'fragment' })
  /** --dport/--sport of tcp/udp, or multiport's --dports/--sports/--ports (`port` = either side). */
  | (MatchBase & { kind: 'port'; field: 'dport' | 'sport' | 'port'; module: string; ranges: PortRange[] })
  | (MatchBase & { kind: 'owner'; field: 'uid' | 'gid'; range: [number, number] })
  | (MatchBase & { kind: 'socketExists' })
  | (MatchBase & { kind: 'mark' | 'connmark'; value: number; mask: number })
  /** conntrack --ctstate or state --state. */
  | (MatchBase & { kind: 'ctstate'; states: string[] })
  | (MatchBase & { kind: 'tcpFlags'; mask: string[]; comp: string[] })
  | (MatchBase & { kind: 'comment'; comment: string })
  /** A match meshctl does not simulate, kept verbatim. */
  | (MatchBase & { kind: 'unknown'; module: string });

export type TargetKind =
  /** ACCEPT, DROP, RETURN, QUEUE: built into iptables. */
  | 'builtin'
  /** A target extension meshctl knows (REDIRECT, TPROXY, MARK, ...). */
  | 'extension'
  /** A user-defined chain. */
  | 'chain'
  /** Neither a known extension nor a chain of this table: kept verbatim, never simulated. */
  | 'unknown';

export interface Target {
  name: string;
  kind: TargetKind;
  /** `-g` (goto) rather than `-j` (jump): a RETURN from the chain goes back past this rule's chain. */
  goto: boolean;
  /** Target options as written: `--to-ports` → `15001`; flags without a value → `true`. */
  options: Record<string, string | true>;
  /** The target exactly as written, e.g. `-j REDIRECT --to-ports 15001`. */
  text: string;
}

export interface Rule {
  /** 1-based position in its chain, as `iptables -L --line-numbers` counts. */
  index: number;
  /** The rule as `iptables -S` would print it: `-A CHAIN <spec>`. */
  text: string;
  matches: Match[];
  /** Null for a rule without -j/-g (it only counts packets). */
  target: Target | null;
  origin: Origin;
  counters?: { packets: number; bytes: number };
}

export interface Chain {
  name: string;
  builtin: boolean;
  /** ACCEPT or DROP for built-in chains; null for user chains. */
  policy: string | null;
  rules: Rule[];
}

export interface Table {
  name: string;
  /** How the table was known: named in the input (`*nat`, `-t nat`), or guessed for `iptables -S` output. */
  tableFrom: 'input' | 'guessed' | 'option';
  chains: Chain[];
}

export interface Section {
  family: Family;
  /** How the family was known: a label in the input, the addresses in the rules, or the order of sections. */
  familyFrom: 'label' | 'addresses' | 'order' | 'default';
  tables: Table[];
}

export type InputFormat = 'iptables-save' | 'iptables -S' | 'istio-iptables' | 'iptables commands';

export interface Ruleset {
  /** File name, `stdin`, or a description of the live source. */
  source: string;
  format: InputFormat;
  sections: Section[];
  /** Things a careful reader should know (undeclared chains, truncated tables in a log, ...). */
  warnings: string[];
}

export const BUILTIN_CHAINS: Record<string, string[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** nat first (it is what captures a pod's traffic), then the others in packet order. */
export const TABLE_ORDER = ['nat', 'mangle', 'raw', 'filter', 'security'];

export function findTable(section: Section | undefined, name: string): Table | undefined {
  return section?.tables.find((t) => t.name === name);
}

export function findChain(table: Table | undefined, name: string): Chain | undefined {
  return table?.chains.find((c) => c.name === name);
}
