/** Small helpers over node:util parseArgs for the CLI: typed option access with clear errors. */
import { parseArgs } from 'node:util';
import { NapoodError, describe } from '../errors.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  readonly help: string;
  readonly value?: string;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly examples: readonly string[];
}

export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export function parseCommand(spec: CommandSpec, argv: string[]): Values {
  return parseCommandWithInputs(spec, argv, false).values;
}

/** Options and positional arguments (inputs), for commands that take inputs (napood check). */
export function parseCommandWithInputs(spec: CommandSpec, argv: string[], allowInputs = true): { values: Values; inputs: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) };
  }
  // `--bootstrap -1`: a value that starts with "-" would be taken for an option (node reports it
  // as ambiguous); a negative number after an option that takes a value is that option's value.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    if (name && !name.includes('=') && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else args.push(a);
  }
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    if (positionals.length > 0 && !allowInputs) throw new NapoodError('arguments', 'options only (see --help)', `the argument ${JSON.stringify(positionals[0])}`);
    return { values: values as Values, inputs: positionals };
  } catch (err) {
    if (err instanceof NapoodError) throw err;
    const message = (err as Error).message.replace(/\. To specify.*$/s, '');
    throw new NapoodError('arguments', `options listed by napood ${spec.name} --help`, message);
  }
}

export function helpText(spec: CommandSpec): string {
  const lines = [`napood ${spec.name} — ${spec.summary}`, '', `Usage: ${spec.usage}`, '', 'Options:'];
  const width = Math.max(...Object.entries(spec.options).map(([n, o]) => (`--${n}` + (o.value ? ` ${o.value}` : '')).length));
  for (const [name, o] of Object.entries(spec.options)) {
    const left = `--${name}` + (o.value ? ` ${o.value}` : '');
    lines.push(`  ${left.padEnd(width)}  ${o.help}`);
  }
  if (spec.examples.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

export function stringOption(values: Values, name: string, required: true): string;
export function stringOption(values: Values, name: string, required?: false): string | undefined;
export function stringOption(values: Values, name: string, required = false): string | undefined {
  const v = values[name];
  if (v === undefined) {
    if (required) throw new NapoodError(`--${name}`, 'a value (it is required)', 'nothing');
    return undefined;
  }
  if (typeof v !== 'string' || v === '') throw new NapoodError(`--${name}`, 'a non-empty value', JSON.stringify(v));
  return v;
}

export function listOption(values: Values, name: string): string[] {
  const v = values[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/**
 * An integer option in [min, max], written in plain decimal digits (no exponent, no fraction, no
 * hex): `--bootstrap 1e12` or `--batch-size 0x10` are refused with the bounds in the message.
 */
export function intOption(values: Values, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = stringOption(values, name);
  if (v === undefined) return fallback;
  const t = v.trim();
  const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
  if (!/^[+-]?\d+$/.test(t)) throw new NapoodError(`--${name}`, `${range}, in plain digits`, JSON.stringify(v));
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new NapoodError(`--${name}`, range, JSON.stringify(v));
  return n;
}

/** A decimal number option in [min, max] (exclusive bounds when `open`). */
export function numberOption(values: Values, name: string, fallback: number, min: number, max: number, open = false): number {
  const v = stringOption(values, name);
  if (v === undefined) return fallback;
  const x = Number(v.trim());
  const inside = open ? x > min && x < max : x >= min && x <= max;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v.trim()) || !inside) {
    throw new NapoodError(`--${name}`, `a number ${open ? 'in (' : 'from '}${min}${open ? ', ' : ' to '}${max}${open ? ')' : ''}`, describe(v));
  }
  return x;
}
