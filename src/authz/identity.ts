import type { Json } from '../match/string.js';

/** Bad identity input: the command turns it into one clear line (exit 2). */
export class IdentityError extends Error {}

const SPIFFE = /^spiffe:\/\/([^/\s]+)(\/[^\s]*)?$/;

/**
 * A source principal as Envoy sees it in the peer certificate: `spiffe://TD/ns/NS/sa/SA`. Istio's own
 * form without the scheme (`cluster.local/ns/foo/sa/bar`, as AuthorizationPolicies write it) is accepted.
 */
export function parsePrincipal(text: string): string {
  const s = text.trim();
  const full = s.startsWith('spiffe://') ? s : `spiffe://${s}`;
  const m = SPIFFE.exec(full);
  if (!m || !/^[A-Za-z0-9._-]+$/.test(m[1]) || !m[2] || m[2] === '/') {
    throw new IdentityError(`--source-principal ${JSON.stringify(text)} is not a SPIFFE ID (expected spiffe://<trust domain>/ns/<namespace>/sa/<service account>)`);
  }
  return full;
}

/** The principal Istio gives a workload: spiffe://TD/ns/NS/sa/SA. */
export function principalOf(namespace: string, serviceAccount: string, trustDomain = 'cluster.local'): string {
  for (const [what, v] of [
    ['--source-namespace', namespace],
    ['--source-sa', serviceAccount],
  ]) {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v)) throw new IdentityError(`${what} ${JSON.stringify(v)} is not a Kubernetes name`);
  }
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/**
 * The claims of a JWT, decoded and never verified (meshctl only needs what Envoy would read once the token
 * is valid). The token itself is never printed, not even in an error.
 */
export function decodeJwt(token: string): Record<string, Json> {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || parts.slice(0, 2).some((p) => !/^[A-Za-z0-9_-]+={0,2}$/.test(p))) {
    throw new IdentityError('--jwt is not a JWT (expected three base64url parts separated by dots)');
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw new IdentityError('--jwt: the payload (second part) is not base64url-encoded JSON');
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new IdentityError('--jwt: the payload is not a JSON object of claims');
  return claims as Record<string, Json>;
}

/** `--jwt-claim key=value` (repeatable: a repeated key becomes a list; a JSON array or object value is taken as JSON). */
export function addClaim(claims: Record<string, Json>, flag: string): Record<string, Json> {
  const eq = flag.indexOf('=');
  if (eq <= 0) throw new IdentityError(`--jwt-claim ${JSON.stringify(flag)} is not key=value`);
  const key = flag.slice(0, eq);
  const raw = flag.slice(eq + 1);
  let value: Json = raw;
  if (/^\s*[[{]/.test(raw)) {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new IdentityError(`--jwt-claim ${key}: the value looks like JSON but does not parse`);
    }
  }
  const prev = claims[key];
  claims[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  return claims;
}

/** Istio's istio_authn view of the claims: string claims as one-item lists, as its authn filter writes them. */
function authnClaims(v: Json): Json {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x) => typeof x === 'string');
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, authnClaims(x)]));
  return undefined;
}

/**
 * The dynamic metadata a validated token leaves for RBAC: jwt_authn's payload (`payload_in_metadata`,
 * what current Istio matches `request.auth.*` against) and the older istio_authn keys.
 */
export function jwtMetadata(claims: Record<string, Json>): Record<string, Json> {
  const aud = claims.aud;
  return {
    'envoy.filters.http.jwt_authn': { payload: claims },
    istio_authn: {
      'request.auth.principal': `${claims.iss ?? ''}/${claims.sub ?? ''}`,
      'request.auth.audiences': Array.isArray(aud) ? aud.join(',') : aud,
      'request.auth.presenter': claims.azp,
      'request.auth.claims': authnClaims(claims),
      'request.auth.raw_claims': JSON.stringify(claims),
    },
  };
}

/** The issuers the chain's jwt_authn filter accepts (its providers), or null when the chain has no jwt_authn. */
export function jwtIssuers(httpFilters: Json[]): string[] | null {
  const f = httpFilters.find((x) => String(x?.name ?? '').includes('jwt_authn') || /jwt_authn\.v3\.JwtAuthentication$/.test(String(x?.typed_config?.['@type'] ?? '')));
  if (!f) return null;
  return Object.values(f.typed_config?.providers ?? {}).map((p: Json) => String(p?.issuer ?? ''));
}
