import type { Command } from 'commander';

export type { KubeOptions } from '../kube/options.js';

/** Adds --kubeconfig, --context, -n, -i, --revision and --timeout to a command. */
export function addKubeOptions(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('-n, --namespace <ns>', "namespace (default: the context's namespace, else default)")
    .option('-i, --istioNamespace <ns>', "istiod's namespace", 'istio-system')
    .option('--revision <rev>', 'Istio control-plane revision')
    .option('--timeout <duration>', 'timeout for each request to the cluster (e.g. 30s, 2m)', '30s');
}

/** Adds --bundle: the command reads a bug-report bundle as if it were the cluster at capture time. */
export function addBundleOption(cmd: Command): Command {
  return cmd.option('--bundle <file|dir>', 'read a bug-report bundle (its tar.gz or unpacked directory) instead of the live cluster');
}
