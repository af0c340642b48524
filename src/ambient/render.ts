import { renderTable } from '../output/table.js';
import type { WaypointUse } from './usage.js';

/**
 * istioctl's `waypoint list` table: NAME, REVISION, TRAFFIC TYPE, PROGRAMMED (NAMESPACE first for all
 * namespaces). TRAFFIC TYPE is the one istiod uses (the Gateway's label, else its class's, else `service`),
 * where istioctl prints `none` for a Gateway without the label. `wide` adds what uses each waypoint.
 */
export function renderWaypointList(waypoints: WaypointUse[], allNamespaces: boolean, wide: boolean): string {
  if (waypoints.length === 0) return 'No waypoints found.\n';
  const headers = [...(allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'REVISION', 'TRAFFIC TYPE', 'PROGRAMMED', ...(wide ? ['USED BY'] : [])];
  const rows = waypoints.map((w) => [
    ...(allNamespaces ? [w.namespace] : []),
    w.name,
    w.revision,
    w.trafficType,
    w.programmed,
    ...(wide ? [usedBy(w)] : []),
  ]);
  return renderTable(headers, rows);
}

const SHOWN = 5;

/** `namespace shop, service web.shop, pod ledger-v1-x.payments` (the first few, then how many more). */
export function usedBy(w: WaypointUse): string {
  const dot = (key: string) => {
    const [ns, name] = key.split('/');
    return `${name}.${ns}`;
  };
  const all = [
    ...w.usedBy.namespaces.map((n) => `namespace ${n}`),
    ...w.usedBy.services.map((s) => `service ${dot(s)}`),
    ...w.usedBy.workloads.map((p) => `pod ${dot(p)}`),
  ];
  if (all.length === 0) return '-';
  return all.length > SHOWN ? `${all.slice(0, SHOWN).join(', ')} and ${all.length - SHOWN} more` : all.join(', ');
}

/**
 * istioctl's `waypoint status` table: NAME, STATUS, TYPE, REASON, MESSAGE (NAMESPACE first for all
 * namespaces); one row per condition the controller reported (istioctl shows only one), so a waypoint
 * accepted but not programmed shows both.
 */
export function renderWaypointStatus(waypoints: WaypointUse[], allNamespaces: boolean): string {
  if (waypoints.length === 0) return 'No waypoints found.\n';
  const headers = [...(allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'STATUS', 'TYPE', 'REASON', 'MESSAGE'];
  const rows: string[][] = [];
  for (const w of waypoints) {
    const conditions = w.conditions.length
      ? w.conditions
      : [{ type: 'Programmed', status: 'Unknown', reason: 'NoStatus', message: 'the gateway controller has reported no condition yet' }];
    for (const c of conditions) {
      rows.push([...(allNamespaces ? [w.namespace] : []), w.name, c.status ?? '', c.type ?? '', c.reason ?? '', oneLine(c.message ?? '')]);
    }
  }
  return renderTable(headers, rows);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}
