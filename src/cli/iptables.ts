import type { Command } from 'commander';
import { addBundleOption, addKubeOptions } from './kube-options.js';
import { UsageError } from '../errors.js';

const OUTPUTS = ['short', 'json', 'yaml'] as const;

/** Checked here rather than with src/output/format.ts, which loads js-yaml: start-up stays light. */
function parseOutputFormat(value: string): (typeof OUTPUTS)[number] {
  if ((OUTPUTS as readonly string[]).includes(value)) return value as (typeof OUTPUTS)[number];
  throw new UsageError(`unknown output format "${value}": use one of ${OUTPUTS.join(', ')}`);
}

/** `meshctl iptables [pod] -f FILE` and `meshctl iptables trace [pod] -f FILE --dst IP:PORT`. */
export function register(program: Command): void {
  const cmd = program
    .command('iptables')
    .description("the netfilter rules that capture a pod's traffic (nat first), with Istio's chains and ports in words")
    .argument('[pod]', 'pod (name, name.namespace, deployment/name); live mode reads istio-init logs, else runs iptables-save in the pod')
    .option('-f, --file <file>', 'saved rules: iptables-save, iptables -S, or istio-init logs (- for stdin)')
    .option('-o, --output <format>', `output format: ${OUTPUTS.join(', ')}`, 'short')
    .option('-t, --table <name>', 'show only this table (also names the table of iptables -S output)')
    .option('--family <family>', 'show only ipv4 or ipv6 rules')
    .addHelpText(
      'after',
      `
Examples:
  meshctl iptables -f fixtures/iptables/classic-sidecar.iptables-save.txt
  meshctl iptables -f istio-init.log -t nat -o json
  kubectl exec web-1 -c istio-proxy -- iptables-save | meshctl iptables -f -
  meshctl iptables trace -f rules.txt --dst 10.96.0.20:8080             # an app's outbound request
  meshctl iptables trace -f rules.txt --dst 10.1.2.3:9080 --direction inbound --src 10.1.9.9`,
    )
    .action(async (pod: string | undefined, opts: Record<string, string | undefined>) => {
      const output = parseOutputFormat(opts.output ?? 'short');
      const family = opts.family;
      if (family !== undefined && family !== 'ipv4' && family !== 'ipv6') throw new UsageError(`--family must be ipv4 or ipv6, not "${family}"`);
      const { iptablesCommand } = await import('../commands/iptables.js');
      await iptablesCommand(pod, { ...opts, output, family } as Parameters<typeof iptablesCommand>[1]);
    });
  addBundleOption(addKubeOptions(cmd));

  const trace = cmd
    .command('trace')
    .description('walk one packet through PREROUTING (inbound) or OUTPUT (outbound) as the kernel would, rule by rule')
    .argument('[pod]', 'pod (name, name.namespace, deployment/name): its rules and IP, read live')
    .option('-f, --file <file>', 'saved rules: iptables-save, iptables -S, or istio-init logs (- for stdin)')
    .requiredOption('--dst <ip:port>', 'destination, e.g. 10.96.0.20:8080 or [fd00::1]:8080')
    .option('--src <ip[:port]>', "source address (outbound default: the pod's IP with --pod-ip, 127.0.0.1 for loopback)")
    .option('--proto <proto>', 'tcp or udp', 'tcp')
    .option('--uid <n>', 'uid of the sending process (outbound; default 1000, an application; 1337 is the proxy)')
    .option('--gid <n>', 'gid of the sending process (outbound; default: the --uid value, else 1000)')
    .option('--out-iface <name>', "outbound interface (default: lo for loopback and the pod's IP, else eth0)")
    .option('--in-iface <name>', 'inbound interface (default eth0)')
    .option('--direction <dir>', 'outbound (from the pod, OUTPUT) or inbound (to the pod, PREROUTING)', 'outbound')
    .option('--pod-ip <ip>', "the pod's IP: traffic to it leaves by lo")
    .option('--mark <n>', 'packet mark before the first rule (default 0)')
    .option('-t, --table <name>', 'table of iptables -S input that does not name one')
    .option('-o, --output <format>', `output format: ${OUTPUTS.join(', ')} (json: steps and verdict, a stable contract)`, 'short')
    .addHelpText(
      'after',
      `
The trace follows the first packet of a new connection (the only one the nat table sees): jumps, RETURNs,
negations, -s/-d, ports, multiport, owner, interfaces, marks and chain policies. A match meshctl does not
simulate (e.g. -m set) makes the verdict "uncertain" and says which rule and what would change.

Examples:
  meshctl iptables trace -f rules.txt --dst 10.96.0.20:8080                         # app → service: REDIRECT to 15001
  meshctl iptables trace -f rules.txt --dst 10.96.0.20:8080 --uid 1337              # Envoy's own upstream: not captured
  meshctl iptables trace -f rules.txt --dst 10.96.0.10:53 --proto udp               # DNS capture to 15053
  meshctl iptables trace -f rules.txt --dst 10.1.2.3:9080 --direction inbound       # inbound: REDIRECT/TPROXY to 15006
  meshctl iptables trace -f rules.txt --dst 10.1.2.3:9080 --pod-ip 10.1.2.3 --uid 1337 -o json`,
    )
    .action(async (pod: string | undefined, own: Record<string, string | undefined>, self: Command) => {
      const opts = withParentOptions(self, own);
      const output = parseOutputFormat(opts.output ?? 'short');
      const { iptablesTraceCommand } = await import('../commands/iptables.js');
      await iptablesTraceCommand(pod, { ...opts, output } as Parameters<typeof iptablesTraceCommand>[1]);
    });
  addBundleOption(addKubeOptions(trace));
}

/**
 * Commander gives options the parent also defines (-f, -o, -t, the kube flags) to the parent even when
 * they follow `trace` (positional options would need the whole program to opt in): take them back.
 */
function withParentOptions(self: Command, own: Record<string, string | undefined>): Record<string, string | undefined> {
  const parent = self.parent;
  if (!parent) return own;
  const merged = { ...own };
  const given = (c: Command, key: string) => ['cli', 'env'].includes(c.getOptionValueSource(key) ?? '');
  for (const [key, value] of Object.entries(parent.opts() as Record<string, string | undefined>)) {
    if (given(parent, key) && !given(self, key)) merged[key] = value;
  }
  return merged;
}
