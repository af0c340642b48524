import { type Command, Option } from 'commander';
import { writeStdout } from '../output/write.js';
import { collect, portNumber } from './arguments.js';
import { addBundleOption, addKubeOptions } from './kube-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('proxy-status [pod]')
    .alias('ps')
    .description("each proxy's xDS sync state from every istiod (/debug/syncz); with a pod, what istiod sent against what the Envoy holds")
    .option('-f, --file <file>', 'without a pod: a saved /debug/syncz (repeat per istiod); with a pod: the Envoy\'s saved /config_dump', collect)
    .option('--istiod-file <file>', "with a pod: istiod's saved /debug/config_dump?proxyID=<pod>.<ns>")
    .option('--proxy-admin-port <port>', 'Envoy admin port in the pod', portNumber, 15000)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['short', 'json', 'yaml']).default('short'))
    .addHelpText(
      'after',
      `
Columns: NAME, CLUSTER, CDS, LDS, EDS, RDS, ECDS, ISTIOD, VERSION. A cell is SYNCED (acked what was sent),
STALE (sent, not yet acked), NOT SENT (nothing sent of that type), or IGNORED (the proxy does not watch it).

Examples:
  meshctl proxy-status
  meshctl proxy-status -n default -o json
  meshctl proxy-status productpage-v1-7d4b8d9b7c-x2x9z.default
  meshctl proxy-status -f istiod-a-syncz.json -f istiod-b-syncz.json
  meshctl proxy-status --bundle bundle.tar.gz
  meshctl proxy-status productpage-v1-7d4b8d9b7c-x2x9z.default -f envoy-config_dump.json --istiod-file istiod-config_dump.json`,
    );
  addBundleOption(addKubeOptions(cmd)).action(async (pod: string | undefined, opts) => {
    const { proxyStatus } = await import('../commands/proxy-status.js');
    writeStdout(await proxyStatus(pod, opts));
  });
}
