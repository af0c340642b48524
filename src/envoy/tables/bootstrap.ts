/** The bootstrap lines of istioctl's `proxy-config all` (writer/envoy/configdump/configdump.go). */
import type { ConfigDump } from '../config-dump.js';
import { isObject, num, str } from '../json.js';

/** Istio and Envoy versions from the bootstrap node, as `all` prints them (label, value). */
export function bootstrapSummary(dump: ConfigDump): [string, string][] {
  const node = dump.bootstrap?.bootstrap.node;
  const md = isObject(node) && isObject(node.metadata) ? node.metadata : {};
  const out: [string, string][] = [];
  const istioVersion = str(md.ISTIO_VERSION) ?? '';
  let sha = str(md.ISTIO_PROXY_SHA) ?? '';
  const parts = sha.split(':');
  if (parts.length > 1) sha = parts[1];
  if (istioVersion) out.push(['Istio Version:', istioVersion]);
  if (sha) out.push(['Istio Proxy Version:', sha]);
  const build = isObject(node) && isObject(node.user_agent_build_version) ? node.user_agent_build_version : {};
  const v = isObject(build.version) ? build.version : {};
  let envoy = `${num(v.major_number) ?? 0}.${num(v.minor_number) ?? 0}.${num(v.patch) ?? 0}`;
  const bmd = isObject(build.metadata) ? build.metadata : {};
  if ('build.label' in bmd) envoy += `-${scalar(bmd['build.label'])}`;
  if ('revision.status' in bmd) envoy += `/${scalar(bmd['revision.status'])}`;
  if ('build.type' in bmd) envoy += `/${scalar(bmd['build.type'])}`;
  if ('ssl.version' in bmd) envoy += `/${scalar(bmd['ssl.version'])}`;
  out.push(['Envoy Version:', envoy]);
  return out;
}

function scalar(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
