/**
 * The commands of the CLI. Each is loaded when it runs (a dump-only `score` never loads sharp
 * or onnxruntime; `--help` and `methods` load neither).
 */
import { helpText, type CommandSpec } from './args.js';
import { calibrateSpec, checkSpec, corruptSpec, dumpSpec, evalSpec, fitSpec, inspectSpec, methodsSpec, reportSpec, scoreSpec, tuneSpec } from './specs.js';

export interface Command {
  readonly spec: CommandSpec;
  help(): string;
  run(argv: string[]): Promise<number>;
}

function command(spec: CommandSpec, run: (argv: string[]) => Promise<number>): Command {
  return { spec, help: () => helpText(spec), run };
}

export const commands: Record<string, Command> = {
  score: command(scoreSpec, async (argv) => (await import('./run-sets.js')).runScore(argv)),
  eval: command(evalSpec, async (argv) => (await import('./run-sets.js')).runEval(argv)),
  fit: command(fitSpec, async (argv) => (await import('./run-sets.js')).runFit(argv)),
  methods: command(methodsSpec, async (argv) => (await import('./run-sets.js')).runMethods(argv)),
  inspect: command(inspectSpec, async (argv) => (await import('./model-commands.js')).runInspect(argv)),
  dump: command(dumpSpec, async (argv) => (await import('./model-commands.js')).runDump(argv)),
  corrupt: command(corruptSpec, async (argv) => (await import('./corrupt.js')).runCorrupt(argv)),
  report: command(reportSpec, async (argv) => (await import('./report-command.js')).runReport(argv)),
  tune: command(tuneSpec, async (argv) => (await import('./tune-command.js')).runTune(argv)),
  calibrate: command(calibrateSpec, async (argv) => (await import('./calibrate-command.js')).runCalibrate(argv)),
  check: command(checkSpec, async (argv) => (await import('./check-command.js')).runCheck(argv)),
};
