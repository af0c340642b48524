import { type Command, Option } from 'commander';
import { writeStdout } from '../output/write.js';
import { portNumber } from './arguments.js';
import { addKubeOptions } from './kube-options.js';

/**
 * Adds `log [pod]` under `proxy-config`: kept in its own module so that the proxy-config CLI registers
 * it with one line (`registerLog(pc)`).
 */
export function registerLog(proxyConfig: Command): Command {
  const cmd = proxyConfig
    .command('log [pod]')
    .description("an Envoy's log levels per logger; --level or --reset changes them")
    .option('--level <levels>', 'set levels: <level> for all loggers and/or <logger>:<level>, comma-separated (trace, debug, info, warning, error, critical, off)')
    .option('-r, --reset', 'reset every logger to warning', false)
    .option('-l, --selector <labels>', 'every ready sidecar pod with these labels (e.g. app=reviews) in the namespace, instead of one pod')
    .option('-f, --file <file>', 'a saved /logging answer instead of a pod')
    .option('--proxy-admin-port <port>', 'Envoy admin port in the pod', portNumber, 15000)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['short', 'json', 'yaml']).default('short'))
    .addHelpText(
      'after',
      `
Examples:
  meshctl proxy-config log productpage-v1-7d4b8d9b7c-x2x9z.default
  meshctl proxy-config log deployment/reviews-v1 --level router:debug,http:debug
  meshctl proxy-config log productpage-v1-7d4b8d9b7c-x2x9z.default --level warning
  meshctl proxy-config log productpage-v1-7d4b8d9b7c-x2x9z.default --reset
  meshctl proxy-config log -l app=reviews -n default --level debug`,
    );
  addKubeOptions(cmd).action(async (pod: string | undefined, opts) => {
    const { proxyConfigLog } = await import('../commands/proxy-config-log.js');
    writeStdout(await proxyConfigLog(pod, opts));
  });
  return cmd;
}
