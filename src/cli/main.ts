import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTaesdError } from '../errors.js';
import { decodeCommand } from './decodeCommand.js';
import { EXAMPLE_MODEL, exampleInputs, namedExample } from './examples.js';
import { fetchModelsCommand } from './fetchModels.js';
import { commandHelp, USAGE } from './help.js';
import { commandOf, parseCli, UsageError, type CliValues, type Command } from './options.js';
import { PACKAGE_ROOT } from './packageRoot.js';
import { progressCommand } from './progress.js';

const COMMANDS: Record<Command, (inputs: string[], v: CliValues) => Promise<number>> = {
  decode: decodeCommand,
  progress: progressCommand,
  'fetch-models': fetchModelsCommand,
};

/** The latent files to read: the positionals, or the shipped examples with --example (and --model defaulting to theirs). */
function withExample(command: 'decode' | 'progress', inputs: string[], v: CliValues): [string[], CliValues] {
  if (!v.example) return [inputs, v];
  // `decode --example wan`: a named example, its model unless --model says otherwise (a video model even with --weights).
  const named = command === 'decode' && inputs.length === 1 ? namedExample(inputs[0]) : undefined;
  if (named) return [[named.file], v.model === undefined ? { ...v, model: named.model } : v];
  if (inputs.length) throw new UsageError('--example decodes the shipped examples; give it or latent files, not both');
  return [exampleInputs(command), v.model === undefined && v.weights === undefined ? { ...v, model: EXAMPLE_MODEL } : v];
}

/** Runs the CLI; returns the exit code (0 ok, 1 failed, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  const command = commandOf(argv);
  try {
    const { values, rest } = parseCli(argv);
    if (values.version) {
      process.stdout.write(`${JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version}\n`);
      return 0;
    }
    if (command === 'help' && rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0])) {
      process.stdout.write(commandHelp(rest[0] as Command));
      return 0;
    }
    if (command === undefined || command === 'help' || (values.help && !Object.hasOwn(COMMANDS, command))) {
      process.stdout.write(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    if (!Object.hasOwn(COMMANDS, command)) throw new UsageError(`unknown command "${command}" (decode, progress, fetch-models)`);
    const known = command as Command;
    if (values.help) {
      process.stdout.write(commandHelp(known));
      return 0;
    }
    if (known === 'fetch-models') return await COMMANDS[known](rest, values);
    return await COMMANDS[known](...withExample(known, rest, values));
  } catch (e) {
    if (e instanceof UsageError) {
      const help = command !== undefined && Object.hasOwn(COMMANDS, command) ? `taesd-web ${command} --help` : 'taesd-web --help';
      process.stderr.write(`taesd-web: ${e.message}\nRun ${help} for usage.\n`);
      return 2;
    }
    if (isTaesdError(e)) {
      process.stderr.write(`taesd-web: error [${e.code}]: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
