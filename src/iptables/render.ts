/** The rules and traces as tables a person reads: Istio's chains, ports and ids labelled in words. */
import type { ChalkInstance } from 'chalk';
import { renderTable } from '../output/table.js';
import { ADDRESS_LABELS, chainLabel, idLabel, portLabel } from './labels.js';
import type { Rule, Ruleset, Section, Table, Target } from './model.js';
import { parseMark } from './rule.js';
import type { TraceResult, TraceStep } from './trace.js';

export interface RulesViewOptions {
  table?: string;
  family?: 'ipv4' | 'ipv6';
}

const FAMILY_NAME = { ipv4: 'IPv4', ipv6: 'IPv6' } as const;

/** `Rules from file x (iptables-save)`, then one CHAIN/#/MATCH/TARGET table per family and table, nat first. */
export function renderRules(rs: Ruleset, description: string, c: ChalkInstance, opts: RulesViewOptions = {}): string {
  const out: string[] = [c.dim(`Rules from ${description} (${rs.format} format)`) + '\n'];
  let shown = 0;
  for (const section of rs.sections) {
    if (opts.family && section.family !== opts.family) continue;
    for (const table of section.tables) {
      if (opts.table && table.name !== opts.table) continue;
      shown++;
      out.push('\n' + c.bold(heading(section, table)) + '\n');
      const legend = table.chains.filter((ch) => chainLabel(table.name, ch.name)).map((ch) => `${ch.name} = ${chainLabel(table.name, ch.name)}`);
      if (legend.length > 0) out.push(c.dim(`Istio chains: ${legend.join('; ')}`) + '\n');
      // iptables-save -c / iptables -S -v carry packet counts: which rules traffic really hits
      const counted = table.chains.some((ch) => ch.rules.some((r) => r.counters));
      const rows = tableRows(table, c);
      const headers = counted ? ['CHAIN', '#', 'PKTS', 'MATCH', 'TARGET'] : ['CHAIN', '#', 'MATCH', 'TARGET'];
      out.push(renderTable(headers, counted ? rows.map((r) => [r[0], r[1], r[4], r[2], r[3]]) : rows.map((r) => r.slice(0, 4)), { padding: 3 }));
    }
  }
  if (shown === 0) out.push(`\nNo ${[opts.family && FAMILY_NAME[opts.family], opts.table].filter(Boolean).join(' ')} rules in the input.\n`);
  return out.join('');
}

function heading(section: Section, table: Table): string {
  const how = section.familyFrom === 'order' ? ' (family judged by section order)' : '';
  const guessed = table.tableFrom === 'guessed' ? ' (table not named in the input; judged from its rules, use -t to say)' : '';
  return `${FAMILY_NAME[section.family]} ${table.name}${how}${guessed}`;
}

function tableRows(table: Table, c: ChalkInstance): string[][] {
  const rows: string[][] = [];
  for (const chain of table.chains) {
    const name = chain.builtin ? c.bold(chain.name) : c.cyan(chain.name);
    for (const rule of chain.rules) {
      rows.push([name, String(rule.index), labelMatch(matchText(rule), c) || c.dim('(any packet)'), renderTarget(rule.target, c, table.name), rule.counters ? String(rule.counters.packets) : '']);
    }
    if (chain.builtin) rows.push([name, '-', c.dim('(end of chain)'), `policy ${policyColour(chain.policy ?? 'ACCEPT', c)}`, '']);
    else if (chain.rules.length === 0) rows.push([name, '-', c.dim('(empty: returns to the caller)'), '', '']);
  }
  return rows;
}

function policyColour(p: string, c: ChalkInstance): string {
  return p === 'DROP' ? c.red(p) : p;
}

/** The rule's conditions as written (`-A CHAIN` and the target left out). */
export function matchText(rule: Rule): string {
  let t = rule.text.replace(/^-A \S+\s*/, '');
  if (rule.target) t = t.slice(0, t.length - rule.target.text.length).trimEnd();
  return t;
}

/** Adds `(HBONE)`, `(the proxy itself)`, ... after the ports, ids and addresses Istio gives a meaning. */
export function labelMatch(text: string, c: ChalkInstance): string {
  return text
    .replace(/(--(?:dports?|sports?|ports|destination-ports?|source-ports?)\s+)([\d,:]+)/g, (all, opt: string, list: string) => {
      const labels = list.split(',').map((p) => (/^\d+$/.test(p) ? portLabel(Number(p)) : undefined)).filter(Boolean);
      return labels.length > 0 ? `${opt}${list} ${c.dim(`(${labels.join(', ')})`)}` : all;
    })
    .replace(/(--[ug]id-owner\s+)(\d+)/g, (all, opt: string, id: string) => {
      const label = idLabel(Number(id));
      return label ? `${opt}${id} ${c.dim(`(${label})`)}` : all;
    })
    .replace(/(-[sd]\s+)(\S+)/g, (all, opt: string, addr: string) => {
      const label = ADDRESS_LABELS[addr];
      return label ? `${opt}${addr} ${c.dim(`(${label})`)}` : all;
    });
}

export function renderTarget(t: Target | null, c: ChalkInstance, table = 'nat'): string {
  if (!t) return c.dim('(none: counts only)');
  const rest = t.text.replace(/^-[jg]\s+\S+\s*/, '');
  const verb = t.goto ? 'goto ' : '';
  let label = '';
  if (t.kind === 'chain') label = chainLabel(table, t.name) ?? '';
  if (t.name === 'REDIRECT') {
    const port = t.options['--to-ports'] ?? t.options['--to-port'];
    if (typeof port === 'string' && portLabel(Number(port))) label = portLabel(Number(port))!;
  }
  if (t.name === 'TPROXY') {
    const port = t.options['--on-port'];
    const mark = typeof t.options['--tproxy-mark'] === 'string' ? parseMark(t.options['--tproxy-mark']) : null;
    label = [typeof port === 'string' ? portLabel(Number(port)) : undefined, mark ? `mark 0x${mark.value.toString(16)}` : undefined].filter(Boolean).join(', ');
  }
  if ((t.name === 'MARK' || t.name === 'CONNMARK') && typeof (t.options['--set-mark'] ?? t.options['--set-xmark']) === 'string') {
    const m = parseMark(String(t.options['--set-mark'] ?? t.options['--set-xmark']));
    if (m) label = `mark 0x${m.value.toString(16)}`;
  }
  const name =
    t.kind === 'unknown' ? c.magenta(t.name) :
    t.kind === 'chain' ? c.cyan(t.name) :
    t.name === 'REDIRECT' || t.name === 'TPROXY' || t.name === 'DNAT' ? c.green(t.name) :
    t.name === 'DROP' || t.name === 'REJECT' ? c.red(t.name) :
    t.name === 'RETURN' || t.name === 'ACCEPT' ? c.yellow(t.name) : t.name;
  return [verb + name, rest, label ? c.dim(`(${label})`) : '', t.kind === 'unknown' ? c.dim('(not simulated)') : ''].filter(Boolean).join(' ');
}

/** Packet line, assumptions, every rule visited, then the verdict. */
export function renderTrace(r: TraceResult, description: string, c: ChalkInstance): string {
  const p = r.packet;
  const hostPort = (a: string | null, port: number | null) => {
    const host = a ?? '?';
    return `${host.includes(':') ? `[${host}]` : host}:${port ?? '*'}`;
  };
  const who = p.direction === 'outbound' ? `, uid ${p.uid} gid ${p.gid}, out ${p.outIface}` : `, in ${p.inIface}`;
  const out: string[] = [];
  out.push(`${c.bold('Packet:')} ${p.direction} ${p.protocol} ${hostPort(p.src, p.sport)} → ${hostPort(p.dst, p.dport)}${who}${p.mark ? `, mark 0x${p.mark.toString(16)}` : ''}\n`);
  if (p.assumed.length > 0) out.push(c.dim(`Assumed: ${p.assumed.join('; ')}`) + '\n');
  out.push(c.dim(`Rules: ${description}, ${p.family === 'ipv4' ? 'IPv4' : 'IPv6'}; the first packet of a new connection`) + '\n\n');
  const inbound = new Set(r.steps.map((s) => s.hook)).size > 1;
  const headers = inbound ? ['HOOK', 'TABLE', 'CHAIN', '#', 'RESULT', 'RULE', 'WHY'] : ['TABLE', 'CHAIN', '#', 'RESULT', 'RULE', 'WHY'];
  const rows = r.steps.map((s) => {
    const row = [s.table, s.chain, s.index === null ? '-' : String(s.index), result(s, c), ruleText(s), why(s, c)];
    return inbound ? [s.hook, ...row] : row;
  });
  if (rows.length > 0) out.push(renderTable(headers, rows, { padding: 2 }));
  else out.push(c.dim('No chain of this hook has rules.') + '\n');
  for (const n of r.notes) out.push(c.dim(`Note: ${n}`) + '\n');
  const v = r.verdict;
  const label = v.toPort !== null && portLabel(v.toPort) ? ` (${portLabel(v.toPort)})` : '';
  const colour = v.target === 'DROP' || v.target === 'REJECT' ? c.red : v.target === 'ACCEPT' ? c.yellow : c.green;
  const where = v.rule ? c.dim(`  [${v.table} ${v.chain}: ${v.rule}]`) : '';
  out.push(`\n${v.uncertain ? c.bold.magenta('Verdict (uncertain):') : c.bold('Verdict:')} ${colour(v.summary)}${label}${where}\n`);
  for (const reason of v.reasons) out.push(`  - ${reason}\n`);
  if (v.ifMatched) out.push(`  Had ${v.ifMatchedRule ?? 'that rule'} matched: ${v.ifMatched}\n`);
  return out.join('');
}

function result(s: TraceStep, c: ChalkInstance): string {
  if (s.index === null) return c.dim('policy');
  if (s.matched === null) return c.magenta('unknown');
  return s.matched ? c.green('match') : c.dim('no match');
}

function ruleText(s: TraceStep): string {
  return s.rule.replace(/^-A \S+\s*/, '') || '(no conditions)';
}

function why(s: TraceStep, c: ChalkInstance): string {
  return s.action ? `${s.why} ${c.bold('→')} ${s.action}` : s.why;
}
