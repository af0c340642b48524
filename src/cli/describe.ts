import type { Command } from 'commander';
import { parseOutputFormat } from '../output/format.js';

const FORMATS = ['text', 'json', 'yaml'] as const;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `meshctl describe pod|service`: the mesh's view of one workload, in istioctl's describe layout. */
export function register(program: Command): void {
  const describe = program
    .command('describe')
    .alias('des')
    .description("Describe a pod or service and the Istio configuration that affects it")
    .addHelpText(
      'after',
      `
Examples:
  meshctl describe pod productpage-v1-7d4b8d9b7c-x2x9z --files manifests/
  meshctl describe pod productpage-v1-7d4b8d9b7c-x2x9z.default --files manifests/ -f productpage-config_dump.json
  meshctl describe service reviews -n default --files manifests/ -o json`,
    );

  for (const [kind, alias, what] of [
    ['pod', 'po', 'a pod: its sidecar, the Services selecting it, and their DestinationRules, VirtualServices, mTLS and authorization'],
    ['service', 'svc', 'a service: its pods, DestinationRules, VirtualServices, gateways, mTLS and authorization'],
  ] as const) {
    describe
      .command(`${kind} <${kind}>`)
      .alias(alias)
      .description(`Describe ${what}`)
      .option('--files <path>', 'Kubernetes/Istio YAML or JSON resources (file or directory, repeatable)', collect)
      .option('-f, --file <config_dump>', "the pod's saved Envoy /config_dump, to confirm what its proxy holds")
      .option('-o, --output <format>', `output format: ${FORMATS.join(', ')}`, 'text')
      .option('-n, --namespace <ns>', `namespace of the ${kind} (default: where it is found; also accepts <name>.<namespace>)`)
      .option('-i, --istioNamespace <ns>', "istiod's namespace, also the default root namespace", 'istio-system')
      .option('--revision <rev>', 'Istio control-plane revision (selects the istio-<rev> mesh ConfigMap)')
      .action(async (ref: string, opts: Record<string, unknown>) => {
        const output = parseOutputFormat(String(opts.output), FORMATS);
        const { describeCommand } = await import('../commands/describe.js');
        await describeCommand(kind, ref, {
          files: opts.files as string[] | undefined,
          file: opts.file as string | undefined,
          output,
          namespace: opts.namespace as string | undefined,
          istioNamespace: String(opts.istioNamespace),
          revision: opts.revision as string | undefined,
        });
      });
  }
}
