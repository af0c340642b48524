import type { AuthzContext, SourceIdentity } from '../authz/context.js';
import { decideChain, type AuthzVerdict, type ChainResult } from '../authz/decide.js';
import { authzFiltersOf, forRoute } from '../authz/filters.js';
import { jwtIssuers, jwtMetadata } from '../authz/identity.js';
import { filterConfig } from '../envoy/typed-config.js';
import type { Json } from '../match/string.js';
import { headerValue, type HttpRequest } from './request.js';

/** What the trace knows of the connection when it reaches the authorization filters. */
export interface AuthzConnection {
  /** The client address, and whether the user gave it (or it is the pod's own) rather than assumed. */
  srcIp: string;
  srcKnown: boolean;
  dstIp: string;
  dstPort: number;
  sni: string;
  /** The client speaks TLS and this chain terminates it (Envoy sees the peer certificate). */
  tlsTerminated: boolean;
  /** The chain requires a client certificate (Istio's mTLS). */
  clientCertRequired: boolean;
}

export interface AuthzStep {
  stage: 'authz';
  chosen: string | null;
  summary: string;
  matched: string[];
  losers: { name: string; reason: string }[];
  notes: string[];
  uncertain: string[];
  data: Record<string, unknown>;
}

/** The peer facts every matcher reads, from the connection and the user's identity flags. */
export function authzContext(conn: AuthzConnection, identity: SourceIdentity, http: { req: HttpRequest; hcm: Json; route: Json | null } | null): { ctx: AuthzContext; notes: string[] } {
  const notes: string[] = [];
  let peer: string | null | undefined;
  if (!conn.tlsTerminated) {
    peer = null;
    if (identity.principal && identity.viaTunnel) notes.push(`peer principal ${identity.principal} from ${identity.viaTunnel} (filter state io.istio.peer_principal)`);
    else if (identity.principal) notes.push(`the connection is not TLS terminated here: no peer certificate, so no principal (${identity.principal} is not seen), as in Envoy`);
  } else if (identity.principal) peer = identity.principal;
  else peer = conn.clientCertRequired ? undefined : null;
  const direct = conn.srcKnown ? conn.srcIp : undefined;
  let remote = direct;
  if (http) {
    const xff = headerValue(http.req, 'x-forwarded-for');
    const trusted = Number(http.hcm?.xff_num_trusted_hops ?? 0);
    const useRemote = http.hcm?.use_remote_address === true;
    if (xff !== undefined) {
      const hops = xff.split(',').map((s) => s.trim()).filter(Boolean);
      // Envoy: without use_remote_address the client is the last XFF entry (skipping trusted hops); with it,
      // only trusted hops make XFF count.
      const idx = useRemote ? (trusted > 0 ? hops.length - trusted : -1) : hops.length - 1 - trusted;
      if (idx >= 0 && idx < hops.length) {
        remote = hops[idx];
        notes.push(`remote address ${remote} from x-forwarded-for (use_remote_address ${useRemote}, xff_num_trusted_hops ${trusted})`);
      }
    }
  }
  const ctx: AuthzContext = {
    sourceIp: direct,
    directRemoteIp: direct,
    remoteIp: remote,
    localIp: conn.dstIp,
    localPort: conn.dstPort,
    sni: conn.sni,
    tls: conn.tlsTerminated,
    peerPrincipal: peer,
    filterState: { 'io.istio.peer_principal': identity.principal ?? (conn.tlsTerminated ? undefined : undefined) },
    header: http ? headerLookup(http.req) : null,
    dynamicMetadata: {},
    routeMetadata: http?.route?.metadata ?? null,
    hints: { principal: 'pass --source-principal, --source-namespace with --source-sa, or --from', ip: 'pass --src or --from' },
  };
  return { ctx, notes };
}

/** The request's headers by name, each worked out once: thousands of policies ask for the same few. */
function headerLookup(req: HttpRequest): (name: string) => string | undefined {
  const seen = new Map<string, string | undefined>();
  return (name) => {
    if (seen.has(name)) return seen.get(name);
    const v = headerValue(req, name);
    seen.set(name, v);
    return v;
  };
}

/** jwt_authn's work: the claims become dynamic metadata when the chain validates tokens of that issuer. */
function applyJwt(ctx: AuthzContext, httpFilters: Json[], identity: SourceIdentity, notes: string[]): void {
  const issuers = jwtIssuers(httpFilters);
  if (!identity.claims) return;
  if (issuers === null) {
    notes.push('the request carries a JWT but this chain has no jwt_authn filter (no RequestAuthentication): request.auth.* stays empty');
    return;
  }
  const iss = identity.claims.iss;
  if (issuers.length && !issuers.includes(String(iss))) {
    notes.push(`the JWT's issuer ${JSON.stringify(iss ?? null)} is not among jwt_authn's providers (${issuers.join(', ')}): Envoy rejects the token (401) before authorization`);
    return;
  }
  Object.assign(ctx.dynamicMetadata, jwtMetadata(identity.claims));
  notes.push(`JWT of ${String(iss ?? '?')}/${String(identity.claims.sub ?? '?')} assumed valid (decoded, not verified)`);
}

/** One trace step per authorization filter, and the chain's verdict. */
function steps(chain: ChainResult, ctxNotes: string[], kind: 'http' | 'network'): { steps: AuthzStep[]; verdict: AuthzVerdict } {
  const out: AuthzStep[] = chain.results.map((r, i) => {
    const ends = r.decision === 'DENY' ? (kind === 'http' ? 'Envoy answers 403 (RBAC: access denied)' : 'Envoy closes the connection') : null;
    const notes = [...(i === 0 ? ctxNotes : []), ...(r.shadow ? [r.shadow.reason] : []), ...r.notes];
    if (ends) notes.push(r.type === 'ext_authz' && kind === 'http' ? 'Envoy answers 403 (denied by the external authorizer)' : ends);
    if (ends && chain.notReached.length) notes.push(`not reached: ${chain.notReached.join(', ')}`);
    return {
      stage: 'authz',
      chosen: r.filter,
      summary: `${r.type === 'ext_authz' ? 'ext_authz (CUSTOM)' : `${kind === 'http' ? 'HTTP' : 'network'} RBAC${r.action ? ` ${r.action}` : ''}`}: ${r.decision} — ${r.reason}`,
      matched: r.matched,
      losers: r.nearest,
      notes,
      uncertain: r.uncertain,
      data: { filter: r.filter, kind: r.kind, action: r.action, decision: r.decision, policy: r.policy, authorizationPolicy: r.authorizationPolicy, policies: r.policies, shadow: r.shadow },
    };
  });
  return { steps: out, verdict: chain.verdict };
}

/** The network RBAC / ext_authz filters before the chain's terminal filter (tcp_proxy or HCM). */
export function authorizeConnection(chainFilters: Json[], conn: AuthzConnection, identity: SourceIdentity): { steps: AuthzStep[]; verdict: AuthzVerdict } | null {
  const filters = authzFiltersOf(chainFilters, 'network');
  if (!filters.length) return null;
  const { ctx, notes } = authzContext(conn, identity, null);
  return steps(decideChain(filters, ctx, identity), notes, 'network');
}

/** The connection manager's RBAC / ext_authz filters for the routed request. */
export function authorizeRequest(hcm: Json, req: HttpRequest, route: Json | null, vhost: Json | null, conn: AuthzConnection, identity: SourceIdentity): { steps: AuthzStep[]; verdict: AuthzVerdict } | null {
  const httpFilters: Json[] = Array.isArray(hcm?.http_filters) ? hcm.http_filters : [];
  const filters = authzFiltersOf(httpFilters, 'http').map((f) => forRoute(f, route, vhost));
  if (!filters.length) return null;
  const { ctx, notes } = authzContext(conn, identity, { req, hcm, route });
  applyJwt(ctx, httpFilters, identity, notes);
  return steps(decideChain(filters, ctx, identity), notes, 'http');
}

/** The connection manager's raw config (the trace's HcmInfo keeps only what routing needs). */
export function hcmConfigOf(chain: Json): Json | null {
  for (const f of Array.isArray(chain?.filters) ? chain.filters : []) {
    const { type, config } = filterConfig(f);
    if (/HttpConnectionManager$/.test(type)) return config;
  }
  return null;
}
