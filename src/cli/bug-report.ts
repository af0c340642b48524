import type { Command } from 'commander';
import { DEFAULT_MAX_NAMESPACES } from '../bugreport/limits.js';
import { collect, portNumber } from './arguments.js';

/** `meshctl bug-report`: a bundle of the mesh that `--bundle` reads back as the cluster. */
export function register(program: Command): void {
  program
    .command('bug-report')
    .description('capture the mesh (proxies, istiod, ztunnel, resources) into one bundle that --bundle reads back as the cluster')
    .requiredOption('-o, --output <file>', 'the bundle to write (a .tar.gz; written atomically)')
    .option('-n, --namespace <ns>', "a namespace whose proxies to collect (repeatable; default: the context's namespace)", collect)
    .option('-A, --all-namespaces', 'collect the proxies of every namespace')
    .option('-l, --selector <selector>', 'only the proxies whose labels match (e.g. app=reviews,version!=v3)')
    .option('--include-istiod', "collect istiod's debug endpoints (the default)", true)
    .option('--no-include-istiod', "leave istiod out")
    .option('--include-ztunnel', "collect ztunnel's config dumps (the default; none without ambient)", true)
    .option('--no-include-ztunnel', 'leave ztunnel out')
    .option('--timeout <duration>', 'time limit for the whole collection; at the limit, what was collected is written', '30m')
    .option('--max-size <size>', 'size limit of the bundle (e.g. 500MB, 2GiB); at the limit, collection stops and the bundle is written')
    .option('--request-timeout <duration>', 'timeout of each request to the cluster', '30s')
    .option('--concurrency <n>', 'pods collected at once', '8')
    .option('--max-namespaces <n>', 'with -A: the most namespaces listed one by one for a kind that may not be listed across all namespaces', String(DEFAULT_MAX_NAMESPACES))
    .option('--proxy-admin-port <port>', 'Envoy admin port in the pods', portNumber, 15000)
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('-i, --istioNamespace <ns>', "istiod's namespace", 'istio-system')
    .option('--revision <rev>', 'Istio control-plane revision')
    .addHelpText(
      'after',
      `
Per proxy: /config_dump?include_eds, /clusters?format=json, /server_info, its iptables rules (istio-init
logs, else iptables-save by exec) and istiod's config for it; per istiod: syncz, registryz, configz,
endpointz, adsz; per ztunnel: /config_dump; the Kubernetes, Istio and Gateway API objects. Secrets are
never read; private keys are redacted from every answer. A bundle cut short by a limit, Ctrl-C or a
failure is still a bundle: index.json says what is missing and why. Progress: a bar on a terminal,
lines when stderr is a file, nothing in a pipe.

Examples:
  meshctl bug-report -o bundle.tar.gz                       # the proxies of the current namespace
  meshctl bug-report -A -o bundle.tar.gz --max-size 1GiB --timeout 10m
  meshctl bug-report -n default -n shop -l app=reviews -o reviews.tar.gz
  meshctl proxy-config clusters productpage-v1-7d4b8d9b7c-x2x9z.default --bundle bundle.tar.gz
  meshctl proxy-status --bundle bundle.tar.gz`,
    )
    .action(async (opts) => {
      const { bugReport } = await import('../commands/bug-report.js');
      await bugReport(opts);
    });
}
