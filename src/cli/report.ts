import { type Command, InvalidArgumentError, Option } from 'commander';
import { writeStdout } from '../output/write.js';
import { addKubeOptions, type KubeOptions } from './kube-options.js';
import { collect, port } from './arguments.js';

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

/** Registers `meshctl report`. */
export function register(program: Command): void {
  const cmd = program
    .command('report')
    .description('one self-contained HTML page: the mesh overview, proxy status, analyze findings, and per pod its proxy-config tables and traffic diagram')
    .argument('[pods...]', 'pods to detail (name, name.namespace, deployment/name); live: default every sidecar pod in the namespace')
    .requiredOption('-o, --output <file>', 'the HTML file to write')
    .option('-f, --file <file>', "a saved Envoy /config_dump (?include_eds), a /clusters?format=json right after its dump, or an istiod /debug/syncz (repeatable)", collect)
    .option('--files <path>', 'Kubernetes/Istio resources (files, directories, globs; repeatable) for the overview and analyze findings', collect)
    .option('--bundle <file|dir>', 'a bug-report bundle (its tar.gz or unpacked directory) read as the cluster at capture: the whole input')
    .option('--trace <URL>', 'highlight the path this request takes in each pod (e.g. http://reviews:9080/api/v1)')
    .option('-H, --header <header>', "with --trace: request header 'name: value' (repeatable)", collect)
    .addOption(new Option('--direction <direction>', 'with --trace: which side of each pod the request crosses (inbound: its RBAC too)').choices(['outbound', 'inbound']).default('outbound'))
    .option('-A, --all-namespaces', 'live: every namespace (default: the context namespace or -n)')
    .option('--max-pods <n>', 'live, without pod names: detail at most this many pods', positiveInt, 50)
    .option('--proxy-admin-port <port>', 'Envoy admin port in the pod', port, 15000);
  addKubeOptions(cmd);
  cmd.addHelpText(
    'after',
    `
The page needs no network when opened (inline CSS, SVG and one small script under a strict
Content-Security-Policy): mail it, attach it to a ticket, open it anywhere.

Examples:
  meshctl report -o report.html                                   # live: the context namespace
  meshctl report -A --trace http://reviews:9080/ -o report.html   # every namespace, one request's path
  meshctl report -f httpbin.json --trace http://httpbin:8000/get --direction inbound -o report.html   # with its RBAC verdict
  meshctl report productpage-v1-7d4b8d9b7c-x2x9z.default -o report.html
  meshctl report -f productpage-config_dump.json -f syncz.json --files manifests/ -o report.html
  meshctl report --bundle bundle.tar.gz -o report.html`,
  );
  cmd.action(async (pods: string[], opts: Record<string, unknown>) => {
    const { reportCommand } = await import('../commands/report.js');
    writeStdout(
      await reportCommand({
        ...(opts as unknown as KubeOptions),
        pods,
        output: opts.output as string,
        file: opts.file as string[] | undefined,
        files: opts.files as string[] | undefined,
        bundle: opts.bundle as string | undefined,
        trace: opts.trace as string | undefined,
        header: opts.header as string[] | undefined,
        direction: opts.direction as 'outbound' | 'inbound',
        allNamespaces: opts.allNamespaces === true,
        maxPods: opts.maxPods as number,
        proxyAdminPort: opts.proxyAdminPort as number,
      }),
    );
  });
}
