/**
 * The state file of `napood fit` / `--state`: the fitted statistics of each method spec as JSON,
 * {napood: 1, methods: [{spec, name, params, state}]}; typed arrays encoded by run/state.ts.
 * Text in, text out: reading and writing files is the caller's (src/node, a browser's fetch).
 */
import { NapoodError, jsonSyntaxError } from '../errors.js';
import type { FittedMethod } from '../run/pipeline.js';
import { parseMethodSpec } from '../run/spec.js';
import { decodeState, encodeState } from '../run/state.js';

export const STATE_FILE_VERSION = 1;

interface StateFileEntry {
  spec: string;
  name: string;
  params: Record<string, number>;
  state: unknown;
}

/** The fitted state of every method that has a fit step, as the text of a state file. */
export function stateFileText(fitted: readonly FittedMethod[]): string {
  const methods: StateFileEntry[] = fitted
    .filter((f) => f.spec.def.fit)
    .map((f) => ({ spec: f.spec.text, name: f.spec.name, params: { ...f.spec.params }, state: encodeState(f.state) }));
  return JSON.stringify({ napood: STATE_FILE_VERSION, methods }) + '\n';
}

/**
 * Parse a state file's text into fitted states by normalised spec text. `what` names the file in
 * messages (e.g. the path).
 */
export function parseStateFile(text: string, what: string, argument = '--state'): Map<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new NapoodError(argument, 'a JSON state file written by `napood fit`', `${what}: ${jsonSyntaxError(err, text)}`);
  }
  const file = parsed as { napood?: unknown; methods?: unknown };
  if (!file || typeof file !== 'object' || Array.isArray(file)) throw new NapoodError(argument, 'a napood state file (a JSON object)', `${what}: ${Array.isArray(file) ? 'an array' : typeof file}`);
  if (file.napood !== STATE_FILE_VERSION) {
    const found = typeof file.napood === 'number' && file.napood > STATE_FILE_VERSION ? `version ${file.napood} (made by a newer napood)` : `"napood": ${JSON.stringify(file.napood) ?? 'missing'}`;
    throw new NapoodError(argument, `a napood state file of version ${STATE_FILE_VERSION}`, `${what}: ${found}`);
  }
  if (!Array.isArray(file.methods)) throw new NapoodError(argument, 'a "methods" list in the state file', `${what}: ${typeof file.methods}`);
  const out = new Map<string, unknown>();
  file.methods.forEach((entry: unknown, i: number) => {
    const e = entry as Partial<StateFileEntry> | null;
    if (!e || typeof e !== 'object' || typeof e.spec !== 'string') throw new NapoodError(`${argument} methods[${i}]`, 'an object with a "spec" string', `${what}: ${JSON.stringify(entry)?.slice(0, 60)}`);
    if (e.state === undefined || e.state === null || typeof e.state !== 'object') throw new NapoodError(`${argument} ${e.spec}`, 'a fitted "state" object', `${what}: ${e.state === undefined ? 'none' : JSON.stringify(e.state)?.slice(0, 60)}`);
    const key = parseMethodSpec(e.spec, argument).text;
    if (out.has(key)) throw new NapoodError(argument, 'each method spec once', `${what}: "${key}" twice`);
    out.set(key, decodeState(e.state, argument));
  });
  return out;
}
