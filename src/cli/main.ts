import { Command, CommanderError } from 'commander';
import { MeshctlError, describeError } from '../errors.js';
import { disableColour } from '../output/colour.js';
import { handleClosedStdout } from '../output/write.js';
import { VERSION } from '../version.js';

type Registrar = (program: Command) => void;

/**
 * The top-level commands, in the order help lists them: the names (and aliases) each module
 * registers, and how to load it. A run that names its command loads only that module; help, an
 * unknown word or no command at all loads every one, so help and "did you mean" see them all.
 */
const COMMANDS: { names: readonly string[]; load: () => Promise<{ register: Registrar }> }[] = [
  { names: ['proxy-config', 'pc'], load: () => import('./proxy-config.js') },
  { names: ['proxy-status', 'ps'], load: () => import('./proxy-status.js') },
  { names: ['istiod', 'dashboard'], load: () => import('./istiod.js') },
  { names: ['iptables'], load: () => import('./iptables.js') },
  { names: ['trace'], load: () => import('./trace.js') },
  { names: ['authz'], load: () => import('./authz.js') },
  { names: ['describe', 'des'], load: () => import('./describe.js') },
  { names: ['analyze'], load: () => import('./analyze.js') },
  { names: ['kube-inject', 'uninject'], load: () => import('./kube-inject.js') },
  { names: ['ztunnel-config', 'zc'], load: () => import('./ztunnel-config.js') },
  { names: ['waypoint'], load: () => import('./waypoint.js') },
  { names: ['report'], load: () => import('./report.js') },
  { names: ['completion', '__complete'], load: () => import('./completion.js') },
  { names: ['bug-report'], load: () => import('./bug-report.js') },
];

// Stack traces are for developers; users get one line unless they ask with --verbose (or MESHCTL_DEBUG=1).
const showStacks = process.argv.includes('--verbose') || process.env.MESHCTL_DEBUG === '1';

/** The CLI with every command (`argv` given: only the command it names, when it names a known one). */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const word = argv?.slice(2).find((a) => !a.startsWith('-'));
  const named = COMMANDS.find((c) => word !== undefined && c.names.includes(word));
  const registrars = await Promise.all((named ? [named] : COMMANDS).map(async (c) => (await c.load()).register));
  const program = new Command('meshctl');
  program
    .description("See what an Istio mesh's data plane is really doing, live or from saved files.")
    .version(VERSION, '--version', 'print the meshctl version')
    .option('--no-color', 'never colour the output (NO_COLOR is honoured too)')
    // recognised after any subcommand too; read from argv directly (showStacks) so it works even when
    // parsing itself fails
    .option('--verbose', 'with an error, also print its stack trace (for bug reports)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) })
    .hook('preAction', (thisCommand) => {
      if (thisCommand.opts().color === false) disableColour();
    })
    .addHelpText(
      'after',
      `
Examples:
  meshctl proxy-config all -f fixtures/bookinfo/productpage-config_dump.json
  meshctl proxy-config clusters productpage-v1-7d4b8d9b7c-x2x9z.default
  meshctl iptables -f rules.txt
  meshctl trace -f config_dump.json http://reviews:9080/api/v1
  meshctl analyze -R manifests/`,
    );

  program
    .command('version')
    .description('print the meshctl version')
    .action(() => {
      process.stdout.write(`meshctl version ${VERSION}\n`);
    });

  for (const register of registrars) register(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  handleClosedStdout();
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err);
  }
}

/**
 * Error messages echo user input (file names, pod names, document text): show control characters as
 * escapes so nothing typed or read can move the cursor, recolour the terminal or fake an output line.
 */
export function printable(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // help and --version end "with an error" in commander's model; they are successes for the user
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    return 2; // commander already printed the usage message
  }
  if (err instanceof MeshctlError) {
    process.stderr.write(`Error: ${printable(err.message)}\n`);
    if (showStacks && err.stack) process.stderr.write(err.stack + '\n');
    return err.exitCode;
  }
  process.stderr.write(`Error: ${printable(describeError(err))}\n`);
  if (showStacks && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  return 1;
}
