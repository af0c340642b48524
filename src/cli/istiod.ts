import { type Command, Option } from 'commander';
import { writeStdout } from '../output/write.js';
import { collect, portNumber } from './arguments.js';
import { addBundleOption, addKubeOptions } from './kube-options.js';


/** Registers `istiod registry`, `istiod debug <endpoint>` and `dashboard envoy <pod>`. */
export function register(program: Command): void {
  const istiod = program
    .command('istiod')
    .description("istiod's view of the mesh, from every replica's debug port (15014), or from saved answers (-f)");

  const registry = istiod
    .command('registry')
    .description("istiod's service registry (/debug/registryz): SERVICE, NAMESPACE, ADDRESS, PORTS, REGISTRY")
    .option('-f, --file <file>', 'a saved /debug/registryz answer (repeat for several replicas; "-" for stdin)', collect)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['short', 'json', 'yaml']).default('short'))
    .addHelpText(
      'after',
      `
With -n only the services of that namespace are listed (all namespaces otherwise).

Examples:
  meshctl istiod registry
  meshctl istiod registry -n default -o yaml
  meshctl istiod registry -f fixtures/live/istiod-registryz.json`,
    );
  addBundleOption(addKubeOptions(registry)).action(async (opts) => {
    const { istiodRegistry } = await import('../commands/istiod.js');
    writeStdout(await istiodRegistry(opts));
  });

  const debug = istiod
    .command('debug <endpoint>')
    .description('raw access to an istiod debug endpoint (registryz, syncz, configz, endpointz, adsz, …), every replica')
    .option('-f, --file <file>', 'a saved answer to print or convert (repeatable)', collect)
    .option('--istiod <pod>', 'only this istiod replica')
    .addOption(new Option('-o, --output <format>', 'json or yaml (default: the answer as sent; several replicas are keyed by pod)').choices(['json', 'yaml']))
    .addHelpText(
      'after',
      `
Examples:
  meshctl istiod debug syncz
  meshctl istiod debug 'configz' -o yaml
  meshctl istiod debug '/debug/config_dump?proxyID=productpage-v1-7d4b8d9b7c-x2x9z.default' --istiod istiod-7c9d8b6f5-abcde`,
    );
  addBundleOption(addKubeOptions(debug)).action(async (endpoint: string, opts) => {
    const { istiodDebug } = await import('../commands/istiod.js');
    writeStdout(await istiodDebug(endpoint, opts));
  });

  const dashboard = program.command('dashboard').description('local access to web UIs inside the mesh');
  const envoy = dashboard
    .command('envoy [pod]')
    .description("holds a port-forward to a pod's Envoy admin UI on 127.0.0.1 and prints its URL until Ctrl-C")
    .option('-p, --port <port>', 'local port (default: any free port)', portNumber)
    .option('--proxy-admin-port <port>', 'Envoy admin port in the pod', portNumber, 15000)
    .option('-f, --file <file>', 'serve a saved /config_dump locally instead of a pod')
    .addHelpText(
      'after',
      `
Examples:
  meshctl dashboard envoy productpage-v1-7d4b8d9b7c-x2x9z.default
  meshctl dashboard envoy deployment/reviews-v1 -n default --port 15000`,
    );
  addKubeOptions(envoy).action(async (pod: string | undefined, opts) => {
    const { dashboardEnvoy } = await import('../commands/istiod.js');
    await dashboardEnvoy(pod, opts);
  });
}
