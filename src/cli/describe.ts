import type { Command } from 'commander';
import { parseOutputFormat } from '../output/format.js';
import { addBundleOption, addKubeOptions, type KubeOptions } from './kube-options.js';
import { collect } from './arguments.js';

const FORMATS = ['text', 'json', 'yaml'] as const;

/** `meshctl describe pod|service`: the mesh's view of one workload, in istioctl's describe layout. */
export function register(program: Command): void {
  const describe = program
    .command('describe')
    .alias('des')
    .description('Describe a pod or service and the Istio configuration that affects it')
    .addHelpText(
      'after',
      `
Examples:
  meshctl describe pod productpage-v1-7d4b8d9b7c-x2x9z
  meshctl describe pod productpage-v1-7d4b8d9b7c-x2x9z.default --files manifests/ -f productpage-config_dump.json
  meshctl describe service reviews -n default -o json`,
    );

  for (const [kind, alias, what, example] of [
    [
      'pod',
      'po',
      'a pod: its sidecar, the Services selecting it, and their DestinationRules, VirtualServices, mTLS and authorization',
      'meshctl describe pod productpage-v1-7d4b8d9b7c-x2x9z.default\n  meshctl describe pod reviews-v1-545db77b95-ksq7f --files manifests/ -f reviews-config_dump.json -o yaml\n  meshctl describe pod productpage-v1-7d4b8d9b7c-x2x9z.default --bundle mesh.tar.gz   # as bug-report captured it',
    ],
    [
      'service',
      'svc',
      'a service: its pods, DestinationRules, VirtualServices, gateways, mTLS and authorization',
      'meshctl describe svc reviews -n default\n  meshctl describe service productpage.default --files manifests/ -o json',
    ],
  ] as const) {
    const cmd = describe
      .command(`${kind} <${kind}>`)
      .alias(alias)
      .description(`Describe ${what}. Reads the cluster, a bug-report bundle with --bundle, or saved files with --files.`)
      .option('--files <path>', 'read Kubernetes/Istio YAML or JSON resources (files, directories, globs, - for stdin) instead of the cluster (repeatable)', collect)
      .option('-f, --file <config_dump>', "the pod's saved Envoy /config_dump (live mode reads it from the pod)")
      .option('-o, --output <format>', `output format: ${FORMATS.join(', ')}`, 'text')
      .addHelpText('after', `\nExamples:\n  ${example}`);
    if (kind === 'pod') {
      cmd.option('--ztunnel-file <config_dump>', "ambient: the saved /config_dump of the ztunnel on the pod's node (live mode reads it from that ztunnel)");
    }
    addBundleOption(addKubeOptions(cmd)).action(async (ref: string, opts: KubeOptions & { files?: string[]; file?: string; ztunnelFile?: string; bundle?: string; output: string }) => {
      const output = parseOutputFormat(String(opts.output), FORMATS);
      const { describeCommand } = await import('../commands/describe.js');
      await describeCommand(kind, ref, { ...opts, output });
    });
  }
}
