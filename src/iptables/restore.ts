/** A section of the model as iptables-restore input: the rules exactly as the kernel should hold them. */
import type { Section } from './model.js';

export function toRestoreText(section: Section): string {
  const out: string[] = [];
  for (const table of section.tables) {
    out.push(`*${table.name}`);
    for (const c of table.chains) out.push(`:${c.name} ${c.builtin ? (c.policy ?? 'ACCEPT') : '-'} [0:0]`);
    for (const c of table.chains) for (const r of c.rules) out.push(r.text);
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}
