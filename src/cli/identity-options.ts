import { type Command, Option } from 'commander';
import type { IdentityFlags } from '../commands/identity.js';
import { collect } from './arguments.js';

export type { IdentityFlags };

/** The request's source identity flags, shared by `trace` and `authz check`. */
export function addIdentityOptions(cmd: Command): Command {
  return cmd
    .option('--source-principal <spiffe-id>', 'the client\'s principal (peer certificate URI SAN), e.g. spiffe://cluster.local/ns/foo/sa/sleep')
    .option('--source-namespace <ns>', 'the client\'s namespace (with --source-sa; the principal is spiffe://TD/ns/NS/sa/SA)')
    .option('--source-sa <sa>', 'the client\'s service account (with --source-namespace)')
    .option('--trust-domain <td>', 'trust domain for --source-namespace/--source-sa and --from', 'cluster.local')
    .option('--from <pod>', 'live: the client pod (name, name.namespace, deployment/name): its service account, namespace and IP')
    .option('--jwt <token>', 'the request\'s JWT (decoded for its claims, never verified, never printed)')
    .option('--jwt-claim <key=value>', 'a JWT claim of the request, instead of --jwt (repeatable)', collect)
    .addOption(new Option('--ext-authz <answer>', 'what the external authorizer of CUSTOM policies answers').choices(['allow', 'deny']));
}

export function identityFlags(opts: Record<string, unknown>): IdentityFlags {
  return {
    sourcePrincipal: opts.sourcePrincipal as string | undefined,
    sourceNamespace: opts.sourceNamespace as string | undefined,
    sourceSa: opts.sourceSa as string | undefined,
    trustDomain: opts.trustDomain as string | undefined,
    from: opts.from as string | undefined,
    jwt: opts.jwt as string | undefined,
    jwtClaim: opts.jwtClaim as string[] | undefined,
    extAuthz: opts.extAuthz as 'allow' | 'deny' | undefined,
  };
}
