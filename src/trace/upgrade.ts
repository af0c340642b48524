import type { Json } from './matchers.js';
import { asArray } from './route.js';

/** Whether the connection manager lets a CONNECT request through this route, and what it does with it. */
export interface ConnectUpgrade {
  enabled: boolean;
  /** connect_config on the route: Envoy ends the CONNECT and forwards its payload as a raw TCP stream. */
  terminated: boolean;
  facts: string[];
}

const isConnect = (u: Json) => String(u?.upgrade_type ?? '').toLowerCase() === 'connect';
// BoolValue: a plain bool in config dumps, `{ value }` in some hand-written YAML
const enabledOf = (u: Json) => (typeof u?.enabled === 'object' && u.enabled !== null ? u.enabled.value : u?.enabled) !== false;

/**
 * Envoy's CONNECT handling (docs/root/intro/arch_overview/http/upgrades.rst): off by default (a local 403);
 * the route's upgrade_configs entry for CONNECT decides when it has one (it overrides the connection
 * manager's either way), else the connection manager's; connect_config, on the route only, terminates it.
 */
export function connectUpgrade(hcm: Json, route: Json): ConnectUpgrade {
  const onRoute = asArray(route?.route?.upgrade_configs).find(isConnect);
  const onHcm = asArray(hcm?.upgrade_configs).find(isConnect);
  const facts: string[] = [];
  let enabled: boolean;
  if (onRoute) {
    enabled = enabledOf(onRoute);
    facts.push(`the route ${enabled ? 'enables' : 'disables'} CONNECT (its upgrade_configs, which override the connection manager's)`);
  } else if (onHcm) {
    enabled = enabledOf(onHcm);
    facts.push(`the connection manager ${enabled ? 'enables' : 'disables'} CONNECT (upgrade_configs)`);
  } else {
    enabled = false;
    facts.push('neither the connection manager nor the route enables CONNECT (no upgrade_configs for it): Envoy refuses CONNECT requests');
  }
  const terminated = enabled && onRoute?.connect_config !== undefined;
  if (enabled) {
    facts.push(
      terminated
        ? 'connect_config: Envoy terminates the CONNECT here (answers 200 itself) and forwards the tunnelled bytes to the cluster as a TCP stream'
        : 'no connect_config on the route: the CONNECT request itself is proxied to the cluster, not terminated here',
    );
  }
  return { enabled, terminated, facts };
}
