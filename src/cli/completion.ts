import { Argument, type Command } from 'commander';
import { writeStdout } from '../output/write.js';

/** Registers `meshctl completion <shell>` and the hidden `__complete` its scripts call. */
export function register(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (commands, flags, flag values, and pod names from the cluster)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      `
Examples:
  source <(meshctl completion bash)         # bash, this shell
  source <(meshctl completion zsh)          # zsh (after compinit)
  meshctl completion fish | source          # fish`,
    )
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      const { completionScript } = await import('../commands/completion.js');
      writeStdout(completionScript(shell));
    });

  // the scripts' helper: candidates for the words after `meshctl`, one a line; never an error
  program
    .command('__complete', { hidden: true })
    .argument('[words...]')
    .allowUnknownOption(true)
    .helpOption(false)
    .action(async (words: string[]) => {
      try {
        const [{ buildProgram }, { complete, liveContext }] = await Promise.all([import('./main.js'), import('../commands/completion.js')]);
        const full = await buildProgram();
        const out = await complete(full, words, liveContext);
        writeStdout(out.map((w) => `${w}\n`).join(''));
      } catch {
        // completion stays silent
      }
    });
}
