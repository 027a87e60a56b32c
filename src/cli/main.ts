/**
 * The napood command line: `napood <command> [options]`, `napood <command> --help`.
 * Exit codes: 0 success, 2 bad input or usage (a NapoodError, message on stderr), 3 `napood check --fail-on-ood` found OOD inputs, 1 anything else.
 */
import { NapoodError } from '../errors.js';
import { commands } from './commands.js';

import { VERSION } from '../version.js';

function mainHelp(): string {
  const lines = [
    `napood ${VERSION} — post-hoc out-of-distribution detection (Neural Activation Prior and friends)`,
    '',
    'Usage: napood <command> [options]      napood <command> --help',
    '',
    'Commands:',
    ...Object.values(commands).map((c) => `  ${c.spec.name.padEnd(9)} ${c.spec.summary}`),
    '',
    'Every score is "higher = more in-distribution". ID is the positive class; FPR95, AUROC and AUPR are defined in the README (Conventions).',
  ];
  return lines.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    process.stdout.write(topic && commands[topic] ? commands[topic].help() : mainHelp());
    return 0;
  }
  if (name === '--version' || name === '-v') { process.stdout.write(VERSION + '\n'); return 0; }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`napood: unknown command ${JSON.stringify(name)}; expected one of ${Object.keys(commands).join(', ')} (napood --help)\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) { process.stdout.write(command.help()); return 0; }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof NapoodError) {
      process.stderr.write(`napood ${name}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`napood ${name}: internal error: ${(err as Error).stack ?? err}\n`);
    return 1;
  }
}
