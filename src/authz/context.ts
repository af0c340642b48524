import type { Json } from '../match/string.js';

/**
 * What Envoy's RBAC matchers read from a connection and a request, as far as meshctl knows it. A value
 * that is `undefined` is unknown (the user did not say): matchers reading it are undecided, never guessed.
 * The same context serves an HTTP filter (header/path set) and a network filter (no HTTP: header null),
 * and, later, an L4-only policy form (ztunnel's) that only reads the connection fields.
 */
export interface AuthzContext {
  /** `source_ip`: the connection's remote address. */
  sourceIp: string | undefined;
  /** `direct_remote_ip`: the downstream peer's address, whatever x-forwarded-for says. */
  directRemoteIp: string | undefined;
  /** `remote_ip`: the client address, from x-forwarded-for when the connection manager trusts it. */
  remoteIp: string | undefined;
  /** `destination_ip` / `destination_port(_range)`: the local address the connection arrived on. */
  localIp: string | undefined;
  localPort: number | undefined;
  /** `requested_server_name`: the SNI ('' without TLS or SNI). */
  sni: string;
  /** Envoy terminated TLS on this connection (`connection.ssl()`). */
  tls: boolean;
  /** The peer certificate's URI SAN: null without one (plaintext, or no client certificate), undefined when unknown. */
  peerPrincipal: string | null | undefined;
  /** Filter state strings (waypoints match io.istio.peer_principal there); a key mapped to undefined is unknown. */
  filterState: Record<string, string | undefined>;
  /** Request headers as the RBAC filter sees them (pseudo-headers included), or null on a network filter. */
  header: ((name: string) => string | undefined) | null;
  /** Dynamic metadata by filter namespace (jwt_authn payload, istio_authn, earlier RBAC filters' results). */
  dynamicMetadata: Record<string, Json>;
  /** The chosen route's metadata (sourced_metadata ROUTE), null when no route. */
  routeMetadata: Json | null;
  /** How the unknowns could be given (for undecided reasons), e.g. "pass --source-principal or --from". */
  hints?: { principal?: string; ip?: string };
}

/** Who sends the request, as the user described it (trace and authz check flags). */
export interface SourceIdentity {
  /** spiffe://TD/ns/NS/sa/SA */
  principal?: string;
  /** The client address (--src). */
  ip?: string;
  /** JWT claims of the request's token (--jwt decoded, or --jwt-claim). */
  claims?: Record<string, Json>;
  /** What an external authorizer (CUSTOM) answers. */
  extAuthz?: 'allow' | 'deny';
  /** Where the identity came from, for notes ("--from sleep-1.foo"). */
  origin?: string;
  /**
   * The principal reaches this proxy as filter state (io.istio.peer_principal) from a tunnel another listener
   * terminated (a waypoint's connect_terminate), not from this connection's TLS: says which, for notes.
   */
  viaTunnel?: string;
}

export type Decision = 'ALLOW' | 'DENY' | 'UNDECIDED';
