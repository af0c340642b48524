import type { Command } from 'commander';
import { addKubeOptions } from './kube-options.js';

/** Registers `kube-inject` and `uninject`. */
export function register(program: Command): void {
  const inject = program
    .command('kube-inject')
    .description("Add Istio's sidecar to workload manifests, offline, as the injection webhook would in the cluster")
    .option('-f, --filename <file>', "manifest to inject ('-' for stdin)")
    .option('-o, --output <file>', 'write the result to this file (atomically) instead of stdout')
    .option('--meshConfigFile <file>', 'mesh config: the mesh YAML or the istio ConfigMap')
    .option('--valuesFile <file>', "injector values: values YAML/JSON or the istio-sidecar-injector ConfigMap")
    .option('--injectConfigFile <file>', "injector config: its config YAML or the istio-sidecar-injector ConfigMap")
    .option('--image <image>', 'full proxy image (default: <hub>/proxyv2:<tag>)')
    .option('--hub <hub>', 'image hub of the proxy (overrides the values)')
    .option('--tag <tag>', 'image tag of the proxy (overrides the values)')
    .option('--offline', "use Istio's built-in injection settings; never contact a cluster");
  addKubeOptions(inject);
  inject.addHelpText(
    'after',
    `
Settings come from the files when any is given; else (unless --offline) from the cluster's
istio-sidecar-injector and istio ConfigMaps when a kubeconfig is found; else from Istio's built-in defaults. Workloads that are already injected, use hostNetwork or
turn injection off are left as they are, with a note on stderr. Other documents pass through untouched.

Examples:
  meshctl kube-inject -f deploy.yaml -o deploy.injected.yaml --offline
  kubectl get deploy web -o yaml | meshctl kube-inject -f - --hub registry.example.com/istio --tag 1.28.0
  meshctl kube-inject -f app.yaml --injectConfigFile inject-cm.yaml --meshConfigFile mesh-cm.yaml
  meshctl kube-inject -f app.yaml --revision canary --offline`,
  );
  inject.action(async (opts) => {
    const { kubeInject } = await import('../commands/kube-inject.js');
    await kubeInject(opts);
  });

  program
    .command('uninject')
    .description('Take the Istio sidecar back out of manifests that kube-inject (or istioctl) injected')
    .option('-f, --filename <file>', "injected manifest ('-' for stdin)")
    .option('-o, --output <file>', 'write the result to this file (atomically) instead of stdout')
    .addHelpText(
      'after',
      `
Examples:
  meshctl uninject -f deploy.injected.yaml -o deploy.yaml
  kubectl get deploy web -o yaml | meshctl uninject -f -`,
    )
    .action(async (opts) => {
      const { uninject } = await import('../commands/kube-inject.js');
      await uninject(opts);
    });
}
