import { type Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import type { ZtunnelConfigCommandOptions } from '../commands/ztunnel-config.js';
import { portNumber } from './arguments.js';
import { addBundleOption, addKubeOptions } from './kube-options.js';

type Kind = 'workloads' | 'services' | 'policies' | 'certificates' | 'connections' | 'all';

interface Spec {
  kind: Kind;
  /** istioctl's name and aliases */
  aliases: string[];
  summary: string;
  examples: string[];
  options: (cmd: Command) => Command;
  /** The view differs per ztunnel: without a pod or --node, refuse to pick one of several. */
  perZtunnel?: boolean;
}

const SPECS: Spec[] = [
  {
    kind: 'workloads',
    aliases: ['workload', 'w'],
    summary: 'the workloads a ztunnel knows: NAMESPACE, POD NAME, ADDRESS, NODE, WAYPOINT, PROTOCOL',
    examples: [
      'meshctl ztunnel-config workloads -f fixtures/ztunnel/ztunnel-worker-config_dump.json',
      'meshctl zc w -f dump.json --workload-namespace bookinfo --workload-node ambient-worker',
      'meshctl zc workloads productpage-v1-5b8d7f9c6d-k2lxp.bookinfo     # its node\'s ztunnel, that workload only',
      'meshctl zc workloads --node ambient-worker --address 10.244.1.12 -o yaml',
    ],
    options: (cmd) =>
      cmd
        .option('--workload-namespace <ns>', 'only workloads of this namespace')
        .option('--workload-node <node>', 'only workloads on this node')
        .option('--address <ip>', 'only the workload with this address'),
  },
  {
    kind: 'services',
    aliases: ['service', 'svc', 's'],
    summary: 'the services: NAMESPACE, SERVICE NAME, SERVICE VIP, WAYPOINT, ENDPOINTS (healthy/all)',
    examples: ['meshctl ztunnel-config services -f dump.json', 'meshctl zc svc -f dump.json --service-namespace bookinfo -o json'],
    options: (cmd) => cmd.option('--service-namespace <ns>', 'only services of this namespace'),
  },
  {
    kind: 'policies',
    aliases: ['policy', 'pol', 'p'],
    summary: 'the L4 authorization policies: NAMESPACE, POLICY NAME, ACTION, SCOPE',
    examples: ['meshctl ztunnel-config policies -f dump.json', 'meshctl zc pol -f dump.json --policy-namespace bookinfo -o yaml'],
    options: (cmd) => cmd.option('--policy-namespace <ns>', 'only policies of this namespace'),
  },
  {
    kind: 'certificates',
    aliases: ['certificate', 'certs', 'cert'],
    summary: "the ztunnel's workload certificates: CERTIFICATE NAME, TYPE, STATUS, VALID CERT, SERIAL NUMBER, NOT AFTER, NOT BEFORE (no key material)",
    examples: ['meshctl ztunnel-config certificates -f dump.json', 'meshctl zc certs --node ambient-worker'],
    options: (cmd) => cmd,
    perZtunnel: true,
  },
  {
    kind: 'connections',
    aliases: ['cons'],
    summary: "the ztunnel's open connections per workload: WORKLOAD, DIRECTION, LOCAL, REMOTE, REMOTE TARGET, PROTOCOL",
    examples: [
      'meshctl ztunnel-config connections -f dump.json --direction outbound',
      'meshctl zc cons --node ambient-worker --raw',
      'meshctl zc cons productpage-v1-5b8d7f9c6d-k2lxp.bookinfo',
    ],
    options: (cmd) =>
      cmd
        .addOption(new Option('--direction <direction>', 'only inbound or outbound connections').choices(['inbound', 'outbound']))
        .option('--raw', 'addresses as they are, not named after the services and workloads behind them', false)
        .option('--workload-namespace <ns>', 'only workloads of this namespace'),
    perZtunnel: true,
  },
  {
    kind: 'all',
    aliases: [],
    summary: 'workloads, services, policies, certificates and connections (-o json|yaml: the whole dump)',
    examples: ['meshctl ztunnel-config all -f dump.json --with-headers', 'cat dump.json | meshctl zc all -f - -o yaml'],
    options: (cmd) => cmd.option('--with-headers', 'a `------ X INFO ------` banner before each table', false),
  },
];

type RawOptions = Omit<ZtunnelConfigCommandOptions, 'needsOne'>;

export function register(program: Command): void {
  const zc = program
    .command('ztunnel-config')
    .alias('zc')
    .description("an ambient mesh's ztunnel configuration as istioctl prints it, from a ztunnel, a node, a workload pod or a saved /config_dump (-f)")
    .addHelpText(
      'after',
      `
Sources: -f FILE (a saved ztunnel /config_dump, "-" for stdin); a ztunnel pod; --node NODE (the ztunnel
there); a workload pod (the ztunnel on its node, filtered to that workload); nothing (any ztunnel).
--bundle FILE|DIR reads those from a bug-report bundle, as captured (log is live only).

Examples:
  meshctl ztunnel-config all -f fixtures/ztunnel/ztunnel-worker-config_dump.json
  meshctl zc workloads --node ambient-worker
  meshctl zc services --bundle mesh.tar.gz
  meshctl zc log --level info`,
    );

  for (const spec of SPECS) {
    const cmd = zc
      .command(`${spec.kind} [pod]`)
      .aliases(spec.aliases)
      .description(spec.summary)
      .option('-f, --file <file>', 'a saved ztunnel /config_dump (JSON or YAML; "-" for stdin) instead of a pod')
      .option('--node <node>', 'the ztunnel on this node')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['short', 'json', 'yaml']).default('short'));
    spec.options(cmd);
    addBundleOption(addKubeOptions(cmd))
      .option('--proxy-admin-port <port>', 'ztunnel admin port', portNumber, 15000)
      .addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  ${e}`).join('\n')}`)
      .action(async (pod: string | undefined, opts: RawOptions) => run(spec, pod, opts));
    acceptGoBooleans(cmd, ['with-headers', 'raw']);
  }

  addKubeOptions(
    zc
      .command('log [pod]')
      .alias('o')
      .description("ztunnels' log levels (every ztunnel, or one); --level or --reset changes them")
      .option('--level <levels>', 'set levels: <level> for all and/or <target>:<level>, comma-separated (trace, debug, info, warning, error, off)')
      .option('-r, --reset', 'reset the levels to those the ztunnel started with', false)
      .option('--node <node>', 'the ztunnel on this node')
      .option('-f, --file <file>', 'a saved /logging answer instead of a ztunnel')
      .option('--bundle <file|dir>', 'not for log: log levels are read and set on live ztunnels only')
      .option('--proxy-admin-port <port>', 'ztunnel admin port', portNumber, 15000)
      .addOption(new Option('-o, --output <format>', 'output format').choices(['short', 'json', 'yaml']).default('short'))
      .addHelpText(
        'after',
        `
Examples:
  meshctl ztunnel-config log                                  # every ztunnel
  meshctl zc log ztunnel-4xkcd --level access:debug,info
  meshctl zc log --node ambient-worker --reset`,
      ),
  ).action(async (pod: string | undefined, opts) => {
    if (opts.bundle !== undefined) {
      throw new UsageError('ztunnel-config log is live only: it reads and sets the log levels of running ztunnels, which a bug-report bundle does not hold; drop --bundle');
    }
    const { ztunnelConfigLog } = await import('../commands/ztunnel-config-log.js');
    const { writeStdout } = await import('../output/write.js');
    writeStdout(await ztunnelConfigLog(pod, opts));
  });
}

/** istioctl users write `--with-headers=true`; commander only knows the bare flag. */
function acceptGoBooleans(cmd: Command, names: string[]): void {
  const parse = cmd.parseOptions.bind(cmd);
  const re = new RegExp(`^--(${names.join('|')})=(true|false|1|0)$`, 'i');
  cmd.parseOptions = (args: string[]) =>
    parse(
      args.flatMap((a) => {
        const m = re.exec(a);
        if (!m) return [a];
        return m[2] === 'true' || m[2] === '1' ? [`--${m[1]}`] : [];
      }),
    );
}

async function run(spec: Spec, pod: string | undefined, opts: RawOptions): Promise<void> {
  const { ztunnelConfigCommand } = await import('../commands/ztunnel-config.js');
  await ztunnelConfigCommand(spec.kind, pod, {
    ...opts,
    withHeaders: opts.withHeaders === true,
    raw: opts.raw === true,
    needsOne: spec.perZtunnel,
  });
}
