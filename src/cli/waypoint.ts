import { Option, type Command } from 'commander';
import { parseOutputFormat } from '../output/format.js';
import { addBundleOption, addKubeOptions, type KubeOptions } from './kube-options.js';
import { collect } from './arguments.js';

const LIST_FORMATS = ['short', 'wide', 'json', 'yaml'] as const;
const STATUS_FORMATS = ['short', 'json', 'yaml'] as const;

type Opts = KubeOptions & {
  files?: string[];
  bundle?: string;
  allNamespaces?: boolean;
  waypointName?: string;
  name?: string;
  output: string;
  wait?: boolean;
  waypointTimeout?: string;
};

/** `meshctl waypoint list|status`: ambient waypoints (istioctl's `waypoint list` and `waypoint status`). */
export function register(program: Command): void {
  const waypoint = program
    .command('waypoint')
    .description('Show ambient waypoints (Gateways of class istio-waypoint) and what uses them, live, from a bug-report --bundle or from --files')
    .addHelpText(
      'after',
      `
Examples:
  meshctl waypoint list -A
  meshctl waypoint list -n shop -o wide
  meshctl waypoint status --waypoint-name waypoint -n shop
  meshctl waypoint list -A --bundle mesh.tar.gz     # as bug-report captured it
  meshctl waypoint list --files manifests/`,
    );

  const common = (cmd: Command) =>
    addBundleOption(addKubeOptions(
      cmd
        .option('-A, --all-namespaces', 'all namespaces (offline: the default)')
        .option('--waypoint-name <name>', 'only the waypoint with this name')
        .addOption(new Option('--name <name>', "istioctl's spelling of --waypoint-name").hideHelp())
        .option('--files <path>', 'read Kubernetes YAML or JSON resources (files, directories, globs, - for stdin) instead of the cluster (repeatable)', collect),
    ));

  common(
    waypoint
      .command('list')
      .description('List waypoints: NAME, REVISION, TRAFFIC TYPE, PROGRAMMED (-o wide: what uses each)')
      .option('-o, --output <format>', `output format: ${LIST_FORMATS.join(', ')}`, 'short')
      .addHelpText('after', '\nExamples:\n  meshctl waypoint list -A\n  meshctl waypoint list -n shop -o wide\n  meshctl waypoint list --files manifests/ -o json\n  meshctl waypoint list -A --bundle mesh.tar.gz'),
  ).action(async (opts: Opts) => {
    const output = parseOutputFormat(String(opts.output), LIST_FORMATS);
    const { waypointCommand } = await import('../commands/waypoint.js');
    await waypointCommand('list', { ...opts, ...nameOf(opts), output });
  });

  common(
    waypoint
      .command('status')
      .description("Show waypoints' status conditions (Accepted, Programmed) and what is wrong with the labels naming them")
      .option('-o, --output <format>', `output format: ${STATUS_FORMATS.join(', ')}`, 'short')
      .option('-w, --wait', 'wait until every waypoint shown is programmed (live only: not with --files or --bundle)')
      .option('--waypoint-timeout <duration>', 'how long --wait waits', '90s')
      .addHelpText('after', '\nExamples:\n  meshctl waypoint status -n shop\n  meshctl waypoint status --waypoint-name waypoint -n shop --wait --waypoint-timeout 2m\n  meshctl waypoint status -n shop --bundle mesh.tar.gz'),
  ).action(async (opts: Opts) => {
    const output = parseOutputFormat(String(opts.output), STATUS_FORMATS);
    const { waypointCommand } = await import('../commands/waypoint.js');
    await waypointCommand('status', { ...opts, ...nameOf(opts), output });
  });
}

function nameOf(opts: Opts): { waypointName?: string } {
  const name = opts.waypointName ?? opts.name;
  return name !== undefined ? { waypointName: name } : {};
}
