import { type Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../errors.js';
import { addIdentityOptions, identityFlags } from './identity-options.js';
import { addBundleOption, addKubeOptions, type KubeOptions } from './kube-options.js';
import { collect, ip, port } from './arguments.js';

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

/** Registers `meshctl trace`. */
export function register(program: Command): void {
  const cmd = program
    .command('trace')
    .description("explain why a request goes where it does: iptables, listener, filter chain, route, cluster, endpoints, as Envoy decides")
    .argument('<pod|target>', 'the pod (name, name.namespace, deployment/name), or the target when -f is given')
    .argument('[target]', 'URL (http://reviews:9080/api/v1, https://host/) or host:port for TCP')
    .option('-f, --file <config_dump>', 'a saved /config_dump (with ?include_eds for endpoints); - for stdin')
    .option('--clusters <file>', 'a saved /clusters?format=json for live endpoint health')
    .option('--iptables <file>', 'iptables rules of the pod (iptables-save, iptables -S or istio-init logs): start the trace at the kernel')
    .option('--method <method>', 'HTTP method', 'GET')
    .option('-H, --header <header>', "request header 'name: value' (repeatable; Host sets the authority)", collect)
    .option('--sni <host>', 'TLS server name the client sends (implies TLS)')
    .option('--alpn <protocols>', 'ALPN protocols the client offers, comma separated (implies TLS), e.g. h2,http/1.1')
    .option('--plaintext', 'inbound: the client sends plaintext instead of the mesh peer mTLS assumed by default')
    .addOption(new Option('--direction <direction>', 'which side of the pod the request crosses').choices(['outbound', 'inbound']).default('outbound'))
    .option('--src <ip>', 'source IP (default: the pod IP for outbound)', ip)
    .option('--dst-ip <ip>', 'destination IP (default: the service VIP found in the dump)', ip)
    .option('--random <n>', "Envoy's random value for this request: decides weighted clusters and runtime fractions exactly", nonNegativeInt)
    .option('--metadata <filter.key=value>', 'dynamic metadata the request carries at the router, for dynamic_metadata route matches (repeatable), e.g. envoy.lb.canary=true', collect)
    .option('--all-candidates', 'list every listener, chain, virtual host and route considered, not just the nearest losers')
    .option('--proxy-admin-port <port>', 'Envoy admin port in the pod', port, 15000)
    .option('--ztunnel-file <config_dump>', "ambient, offline: the client node's ztunnel /config_dump (the first argument then names the client pod, name.namespace)")
    .option('--dst-ztunnel-file <config_dump>', "ambient, offline: another node's ztunnel /config_dump, for the destination's (repeatable; matched by its node)", collect)
    .option('--waypoint-file <config_dump>', "ambient, offline: a waypoint's Envoy /config_dump?include_eds (repeatable)", collect)
    .option('--files <path>', 'ambient, offline: Kubernetes resources (Namespaces, Services, Pods, Gateways, AuthorizationPolicies; files, directories, globs) that say why a waypoint is bound (repeatable)', collect)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['short', 'json', 'yaml', 'dot', 'mermaid']).default('short'));
  addIdentityOptions(cmd);
  addBundleOption(addKubeOptions(cmd));
  cmd.addHelpText(
    'after',
    `
Examples:
  meshctl trace -f productpage-config_dump.json http://reviews:9080/api/v1
  meshctl trace -f dump.json http://reviews:9080/ -H 'end-user: jason'
  meshctl trace -f dump.json http://reviews:9080/ --random 4711 -o json
  meshctl trace -f dump.json https://httpbin.org/get           # TLS passthrough by SNI
  meshctl trace -f dump.json mysql:3306                        # plain TCP
  meshctl trace -f dump.json http://productpage:9080/ --direction inbound
  meshctl trace productpage-v1-7d4b8d9b7c-x2x9z.default http://ratings:9080/ratings/0
  meshctl trace productpage-v1-7d4b8d9b7c-x2x9z.default http://reviews:9080/ --bundle mesh.tar.gz   # as at capture
  meshctl trace -f dump.json http://reviews:9080/ -o dot | dot -Tsvg > path.svg   # the path as a diagram
  meshctl trace -f httpbin.json http://httpbin:8000/get --direction inbound --source-principal spiffe://cluster.local/ns/foo/sa/sleep
  meshctl trace productpage-v1-5b8d7f9c6d-k2lxp.bookinfo http://reviews:9080/      # ambient pod: ztunnel → waypoint → ztunnel
  meshctl trace --ztunnel-file ztunnel-worker.json --waypoint-file reviews-waypoint.json \
      productpage-v1-5b8d7f9c6d-k2lxp.bookinfo http://reviews:9080/

With -o json the output is {steps, result}; result has captured, listener, filterChain, routeConfig,
virtualHost, route, cluster, weightedClusters, pathRewrite, hostRewrite, redirect, directResponse,
endpoints, authz (decision, policy, authorizationPolicy, filter, reason) and uncertain (null where not
applicable); an ambient trace adds result.ambient (source, path, service, waypoint, hbone, destination,
inbound) and steps with an \`at\` (client ztunnel, waypoint, destination ztunnel).
With -o dot or -o mermaid the path (request → listener → filter chain → route config → virtual host →
route → cluster → endpoints, with the nearest candidates that lost and why) is Graphviz or Mermaid source.`,
  );
  cmd.action(async (first: string, second: string | undefined, opts: Record<string, unknown>) => {
    let pod: string | undefined;
    let target: string;
    if (opts.file !== undefined) {
      if (second !== undefined) throw new UsageError('with -f give only the target (the pod comes from the file)');
      target = first;
    } else if (opts.ztunnelFile !== undefined && second === undefined) {
      // ambient, offline, the client given by --src
      target = first;
    } else {
      if (second === undefined) throw new UsageError('give a pod and a target, or -f config_dump.json and a target');
      pod = first;
      target = second;
    }
    const { traceCommand } = await import('../commands/trace.js');
    await traceCommand({
      ...(opts as unknown as KubeOptions),
      file: opts.file as string | undefined,
      pod,
      target,
      clusters: opts.clusters as string | undefined,
      iptables: opts.iptables as string | undefined,
      method: opts.method as string,
      header: opts.header as string[] | undefined,
      sni: opts.sni as string | undefined,
      alpn: opts.alpn as string | undefined,
      direction: opts.direction as 'outbound' | 'inbound',
      src: opts.src as string | undefined,
      dstIp: opts.dstIp as string | undefined,
      random: opts.random as number | undefined,
      allCandidates: opts.allCandidates === true,
      plaintext: opts.plaintext === true,
      metadata: opts.metadata as string[] | undefined,
      proxyAdminPort: opts.proxyAdminPort as number,
      output: opts.output as 'short' | 'json' | 'yaml' | 'dot' | 'mermaid',
      identity: identityFlags(opts),
      ztunnelFile: opts.ztunnelFile as string | undefined,
      dstZtunnelFile: opts.dstZtunnelFile as string[] | undefined,
      waypointFile: opts.waypointFile as string[] | undefined,
      files: opts.files as string[] | undefined,
    });
  });
}
