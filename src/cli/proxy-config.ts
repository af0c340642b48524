import { Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../errors.js';
import { addBundleOption, addKubeOptions, type KubeOptions } from './kube-options.js';
import { registerLog } from './proxy-config-log.js';
import { port } from './arguments.js';

type Kind = 'clusters' | 'listeners' | 'routes' | 'endpoints' | 'secret' | 'bootstrap' | 'ecds' | 'all';

interface Spec {
  kind: Kind;
  aliases: string[];
  summary: string;
  examples: string[];
  options: (cmd: Command) => void;
}

const LISTENER_TYPES = ['HTTP', 'TCP', 'HTTP+TCP', 'UNKNOWN'];
const HEALTH = ['HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED', 'UNKNOWN'];

function oneOf(allowed: string[]) {
  return (value: string): string => {
    if (!allowed.includes(value.toUpperCase())) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}`);
    return value;
  };
}

const clusterFlags = (cmd: Command) =>
  cmd
    .option('--fqdn <fqdn>', 'only clusters whose name contains this FQDN')
    .option('--port <port>', 'only clusters for this port', port)
    .option('--subset <subset>', 'only clusters for this subset')
    .option('--direction <direction>', 'only inbound or outbound clusters');
const listenerFlags = (cmd: Command) =>
  cmd
    .option('--address <ip>', 'only listeners on this address')
    .option('--port <port>', 'only listeners on this port', port)
    .option('--type <type>', 'only listeners of this type: HTTP, TCP, HTTP+TCP', oneOf(LISTENER_TYPES));
const routeFlags = (cmd: Command) => cmd.option('--name <name>', 'only the route configuration with this name');
const endpointFlags = (cmd: Command) =>
  cmd
    .option('--address <ip>', 'only endpoints with this address (IP, or IP:port for config dumps)')
    .option('--port <port>', 'only endpoints on this port', port)
    .option('--cluster <cluster>', 'only endpoints of this cluster')
    .option('--status <status>', `only endpoints with this health status: ${HEALTH.join(', ')}`, oneOf(HEALTH));
const verboseFlag = (cmd: Command) =>
  cmd
    .option('--verbose', 'one row per filter chain or route, with MATCH and DESTINATION; --verbose=false for the summary', true)
    .option('--no-verbose', 'summary rows only');

const SPECS: Spec[] = [
  {
    kind: 'clusters',
    aliases: ['cluster', 'c'],
    summary: "the Envoy's clusters: SERVICE FQDN, PORT, SUBSET, DIRECTION, TYPE, DESTINATION RULE",
    examples: [
      'meshctl proxy-config clusters -f fixtures/bookinfo/productpage-config_dump.json',
      'meshctl proxy-config clusters -f dump.json --fqdn reviews.default.svc.cluster.local --port 9080 -o json',
      'meshctl pc c productpage-v1-7d4b8d9b7c-x2x9z.default --direction inbound',
    ],
    options: clusterFlags,
  },
  {
    kind: 'listeners',
    aliases: ['listener', 'l'],
    summary: 'the listeners: ADDRESSES, PORT, MATCH, DESTINATION (one row per filter chain)',
    examples: [
      'meshctl proxy-config listeners -f fixtures/bookinfo/productpage-config_dump.json',
      'meshctl proxy-config listeners -f dump.json --port 15006 --verbose=false',
      'meshctl proxy-config listeners -f dump.json --address 0.0.0.0 --port 9080 -o yaml',
    ],
    options: (cmd) => verboseFlag(listenerFlags(cmd)),
  },
  {
    kind: 'routes',
    aliases: ['route', 'r'],
    summary: 'the route configurations: NAME, VHOST NAME, DOMAINS, MATCH, VIRTUAL SERVICE',
    examples: [
      'meshctl proxy-config routes -f fixtures/bookinfo/productpage-config_dump.json',
      'meshctl proxy-config routes -f dump.json --name 9080 -o json',
    ],
    options: (cmd) => verboseFlag(routeFlags(cmd)),
  },
  {
    kind: 'endpoints',
    aliases: ['endpoint', 'ep'],
    summary: 'the endpoints: from a /config_dump?include_eds dump, or from /clusters?format=json (live, with outlier state)',
    examples: [
      'meshctl proxy-config endpoints -f fixtures/bookinfo/productpage-config_dump.json --cluster "outbound|9080|v1|reviews.default.svc.cluster.local"',
      'meshctl proxy-config endpoints -f fixtures/bookinfo/productpage-clusters.json --status unhealthy',
      'meshctl pc ep productpage-v1-7d4b8d9b7c-x2x9z.default --port 9080',
    ],
    options: endpointFlags,
  },
  {
    kind: 'secret',
    aliases: ['secrets', 's'],
    summary: 'the SDS secrets: RESOURCE NAME, TYPE, STATUS, VALID CERT, SERIAL NUMBER, NOT AFTER, NOT BEFORE (keys never shown)',
    examples: ['meshctl proxy-config secret -f fixtures/bookinfo/productpage-config_dump.json', 'meshctl proxy-config secret -f dump.json -o yaml'],
    options: (cmd) => cmd,
  },
  {
    kind: 'bootstrap',
    aliases: ['b'],
    summary: 'the bootstrap configuration (JSON by default; -o short for the versions)',
    examples: ['meshctl proxy-config bootstrap -f fixtures/bookinfo/productpage-config_dump.json', 'meshctl proxy-config bootstrap -f dump.json -o short'],
    options: (cmd) => cmd,
  },
  {
    kind: 'ecds',
    aliases: ['e'],
    summary: 'extension configs delivered by ECDS (e.g. Wasm plugins): ECDS NAME, TYPE',
    examples: ['meshctl proxy-config ecds -f dump.json', 'meshctl proxy-config ecds -f dump.json -o yaml'],
    options: (cmd) => cmd,
  },
  {
    kind: 'all',
    aliases: ['a'],
    summary: 'every section: bootstrap, clusters, listeners, routes, secrets, endpoints',
    examples: [
      'meshctl proxy-config all -f fixtures/bookinfo/productpage-config_dump.json',
      'meshctl proxy-config all -f dump.json --with-headers',
      'cat dump.json | meshctl proxy-config all -f - -o json',
    ],
    options: (cmd) =>
      verboseFlag(clusterFlags(cmd))
        .option('--address <ip>', 'only listeners and endpoints with this address')
        .option('--type <type>', 'only listeners of this type: HTTP, TCP, HTTP+TCP', oneOf(LISTENER_TYPES))
        .option('--name <name>', 'only the route configuration with this name')
        .option('--cluster <cluster>', 'only endpoints of this cluster')
        .option('--status <status>', 'only endpoints with this health status', oneOf(HEALTH))
        .option('--with-headers', 'istioctl\'s "------ CLUSTER INFO ------" banners before each section', false),
  },
];

interface RawOptions extends KubeOptions {
  file?: string;
  bundle?: string;
  output: 'short' | 'json' | 'yaml';
  proxyAdminPort: number;
  verbose?: boolean;
  withHeaders?: boolean;
  fqdn?: string;
  port?: number;
  subset?: string;
  direction?: string;
  address?: string;
  type?: string;
  name?: string;
  cluster?: string;
  status?: string;
}

export function register(program: Command): void {
  const pc = program
    .command('proxy-config')
    .alias('pc')
    .description("an Envoy's configuration as istioctl prints it, from a pod or a saved /config_dump (-f)")
    .addHelpText(
      'after',
      `
Examples:
  meshctl proxy-config all -f fixtures/bookinfo/productpage-config_dump.json
  meshctl proxy-config listeners productpage-v1-7d4b8d9b7c-x2x9z.default
  meshctl pc routes -f dump.json --name 9080`,
    );

  for (const spec of SPECS) {
    const cmd = pc
      .command(`${spec.kind} [pod]`)
      .aliases(spec.aliases)
      .description(spec.summary)
      .option('-f, --file <file>', 'a saved Envoy /config_dump (JSON or YAML; "-" for stdin) instead of a pod')
      .addOption(
        new Option('-o, --output <format>', 'output format')
          .choices(['short', 'json', 'yaml'])
          .default(spec.kind === 'bootstrap' ? 'json' : 'short'),
      );
    spec.options(cmd);
    addKubeOptions(cmd);
    addBundleOption(cmd);
    cmd
      .option('--proxy-admin-port <port>', "Envoy admin port in the pod", port, 15000)
      .addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  ${e}`).join('\n')}`)
      .action(async (pod: string | undefined, opts: RawOptions) => run(spec.kind, pod, opts));
    acceptGoStyleBooleans(cmd);
  }
  registerLog(pc);
}

/** istioctl users write `--verbose=false`; commander only knows `--no-verbose`. */
function acceptGoStyleBooleans(cmd: Command): void {
  const parse = cmd.parseOptions.bind(cmd);
  cmd.parseOptions = (args: string[]) =>
    parse(
      args.map((a) => {
        const m = /^--(verbose|with-headers)=(true|false|1|0)$/i.exec(a);
        if (!m) return a;
        const on = m[2] === 'true' || m[2] === '1';
        return on ? `--${m[1]}` : m[1] === 'verbose' ? '--no-verbose' : '';
      }).filter((a) => a !== ''),
    );
}

async function run(kind: Kind, pod: string | undefined, opts: RawOptions): Promise<void> {
  if (pod !== undefined && opts.file !== undefined) throw new UsageError('give either a pod or --file, not both');
  if (opts.bundle !== undefined && opts.file !== undefined) throw new UsageError('give either --bundle (with a pod) or --file, not both');
  if (pod === undefined && opts.file === undefined) {
    throw new UsageError(
      `proxy-config ${kind} needs a pod (name, name.namespace) or --file with a saved config dump${opts.bundle !== undefined ? ' (with --bundle, name a pod of the bundle)' : ''}`,
    );
  }
  if (opts.file === '-' && process.stdin.isTTY) {
    throw new UsageError('-f - reads the config dump from stdin, which is a terminal: pipe a dump in or give a file');
  }
  const { proxyConfig } = await import('../commands/proxy-config.js');
  const { writeStdout } = await import('../output/write.js');
  let source;
  if (opts.file !== undefined) {
    const { fileAdminSource } = await import('../source/envoy-admin.js');
    source = fileAdminSource(opts.file);
  } else {
    const { openAdminSource } = await import('../kube/admin-source.js');
    source = await openAdminSource(pod!, { ...opts, proxyAdminPort: opts.proxyAdminPort });
  }
  try {
    const result = await proxyConfig(
      kind,
      {
        output: opts.output,
        verbose: opts.verbose !== false,
        withHeaders: opts.withHeaders === true,
        fqdn: opts.fqdn,
        port: opts.port,
        subset: opts.subset,
        direction: opts.direction,
        address: opts.address,
        type: opts.type,
        name: opts.name,
        cluster: opts.cluster,
        status: opts.status,
      },
      source,
    );
    for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
    writeStdout(result.stdout);
  } finally {
    await source.close();
  }
}
