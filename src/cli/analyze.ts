import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { addBundleOption } from './kube-options.js';
import { collect } from './arguments.js';

function parseBool(value: string | boolean | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`invalid --use-kube value "${String(value)}": use true or false`);
}

/** Registers `meshctl analyze`. */
export function register(program: Command): void {
  const cmd = program
    .command('analyze')
    .description('Find mesh misconfiguration in Kubernetes/Istio YAML (istioctl analyze compatible codes, output and exit codes)')
    .argument('[files...]', 'files, directories, globs, or - for stdin')
    .option('-R, --recursive', 'look for .yaml/.yml/.json files in subdirectories too', false)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['log', 'json', 'yaml', 'sarif', 'github']).default('log'))
    .option('--failure-threshold <level>', 'lowest level that makes the exit code 79 (Info, Warning, Error)', 'Error')
    .option('--output-threshold <level>', 'lowest level to print (Info, Warning, Error)', 'Info')
    .option('-S, --suppress <CODE=Kind name>', 'suppress findings, e.g. "IST0102=Namespace default", "IST0103=Pod default/*" (repeatable)', collect, [])
    .option('-L, --list-analyzers', 'list the analyzers and the codes they report', false)
    .option('--analyzer <name>', 'run only this analyzer (repeatable; see -L)', collect, [])
    .option('-A, --all-namespaces', 'report findings in all namespaces', false)
    .option('-n, --namespace <ns>', 'namespace for resources that name none, and the only one reported on (default: default; all namespaces in the files are reported)')
    .option('--partial', 'the files are only part of the mesh: "nothing matches" checks (selectors, credentials, namespaces) report only where the files show that part', false)
    .option('--meshConfigFile <file>', 'mesh config (MeshConfig YAML, or the istio ConfigMap) to analyze with')
    .option('--meshNetworksFile <file>', 'mesh networks (MeshNetworks YAML, or the istio ConfigMap) to analyze with')
    .option('--remote-contexts <contexts>', 'kubeconfig contexts of the mesh\'s other clusters, comma-separated: their Services are compared with this cluster\'s', (v: string, prev: string[]) => [...prev, ...v.split(',').map((c) => c.trim()).filter(Boolean)], [])
    .option('--remote-files <cluster=path>', 'the Services of another cluster from saved manifests, e.g. east=manifests/east/ (repeatable)', collect, [])
    .option('--revision <rev>', 'Istio control-plane revision to analyze against')
    .option('-k, --use-kube [bool]', 'merge the files over the resources in the cluster (default: only when no files are given)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--timeout <duration>', 'timeout for each request to the cluster (e.g. 30s, 2m)', '30s');
  addBundleOption(cmd)
    .addHelpText(
      'after',
      `
With no files, the current cluster is analyzed (findings in the context's namespace; -A for all).
With files, only the files are analyzed unless --use-kube merges them over the cluster's resources.
--bundle analyzes a bug-report bundle as the cluster at capture time (bundles hold no Secrets:
gateway credentials are not judged).

Exit codes: 0 nothing at or above --failure-threshold; 79 findings at or above it (as istioctl);
1 an input file or document could not be read (reported per file; the others are still analyzed),
or the cluster could not be read; 2 usage.

Examples:
  meshctl analyze -R manifests/
  meshctl analyze -A                                   # the whole cluster
  meshctl analyze -k new-virtualservice.yaml           # as if applied to the cluster
  meshctl analyze -A --bundle mesh.tar.gz              # the cluster as bug-report captured it
  meshctl analyze 'deploy/**/*.yaml' -o sarif > analyze.sarif
  kustomize build overlays/prod | meshctl analyze - -o github
  meshctl analyze bookinfo.yaml -S "IST0102=Namespace default" --failure-threshold Warning
  meshctl analyze -A --remote-contexts east,west         # multi-cluster: Services defined differently
  meshctl analyze -L`,
    )
    .action(async (files: string[], options: Record<string, unknown>) => {
      const { analyzeCommand } = await import('../commands/analyze.js');
      const code = await analyzeCommand({
        files,
        recursive: options.recursive as boolean,
        output: options.output as 'log',
        failureThreshold: options.failureThreshold as string,
        outputThreshold: options.outputThreshold as string,
        suppress: options.suppress as string[],
        listAnalyzers: options.listAnalyzers as boolean,
        analyzer: options.analyzer as string[],
        allNamespaces: options.allNamespaces as boolean,
        namespace: options.namespace as string | undefined,
        meshConfigFile: options.meshConfigFile as string | undefined,
        partial: options.partial as boolean,
        meshNetworksFile: options.meshNetworksFile as string | undefined,
        remoteContexts: options.remoteContexts as string[],
        remoteFiles: options.remoteFiles as string[],
        revision: options.revision as string | undefined,
        useKube: parseBool(options.useKube as string | boolean | undefined),
        kubeconfig: options.kubeconfig as string | undefined,
        context: options.context as string | undefined,
        timeout: options.timeout as string,
        bundle: options.bundle as string | undefined,
      });
      process.exitCode = code;
    });
}
