/**
 * Method specifications as written on the command line and in the API:
 *   `nap`, `nap:eps=1,p=2`, `nap-e:w=0.4`, `ash-s:p=95`, `nap-r:w=0.4,p=90,nap_p=3`.
 * A list joins specs with commas (`nap,energy,react:p=90`): a comma-separated item holding `=`
 * but no `:` continues the parameters of the spec before it.
 */
import { NapoodError } from '../errors.js';
import { getMethod } from '../methods/registry.js';
import type { MethodDefinition, Params } from '../types.js';

export interface MethodSpec {
  /** The spec as written, normalised (`nap:eps=1,p=2`). */
  readonly text: string;
  readonly name: string;
  /** Every parameter, defaults filled in. */
  readonly params: Params;
  /** Only the parameters the user set. */
  readonly given: Params;
  readonly def: MethodDefinition<any>;
  /** Named layers (`nap[L1+L2]`), for methods that score layers other than the map before pooling. */
  readonly layers?: readonly string[];
}

export function parseMethodSpec(text: string, argument = '--method'): MethodSpec {
  const trimmed = text.trim();
  if (!trimmed) throw new NapoodError(argument, 'a method name such as nap or ash-s:p=95', 'an empty string');
  // `nap[L1+L2]:p=2`: layer names (which may hold ':' as in TensorFlow's "x:0") sit in brackets.
  let layers: string[] | undefined;
  let rest = trimmed;
  const open = trimmed.indexOf('[');
  if (open >= 0) {
    const close = trimmed.indexOf(']', open);
    if (close < 0) throw new NapoodError(argument, 'layer names closed by "]", e.g. nap[/layer3/relu/Relu_output_0+/layer4/relu/Relu_output_0]', JSON.stringify(trimmed));
    layers = trimmed.slice(open + 1, close).split('+').map((l) => l.trim());
    if (layers.some((l) => l === '')) throw new NapoodError(argument, 'layer names separated by "+", none empty', JSON.stringify(trimmed.slice(open, close + 1)));
    if (new Set(layers).size !== layers.length) throw new NapoodError(argument, 'each layer once', JSON.stringify(trimmed.slice(open, close + 1)));
    rest = trimmed.slice(0, open) + trimmed.slice(close + 1);
  }
  const colon = rest.indexOf(':');
  const name = (colon < 0 ? rest : rest.slice(0, colon)).trim().toLowerCase();
  const def = getMethod(name, argument);
  if (layers && !def.layered) throw new NapoodError(`${argument} ${name}`, 'layers only for methods that score named layers (nap[LAYER+…])', `[${layers.join('+')}]`);
  const given: Record<string, number> = {};
  if (colon >= 0) {
    const body = rest.slice(colon + 1).trim();
    if (body) {
      for (const item of body.split(',')) {
        const eq = item.indexOf('=');
        if (eq < 0) throw new NapoodError(`${argument} ${name}`, 'parameters as name=value', JSON.stringify(item));
        const key = item.slice(0, eq).trim();
        const raw = item.slice(eq + 1).trim();
        const spec = def.params[key];
        if (!spec) {
          const known = Object.keys(def.params);
          throw new NapoodError(`${argument} ${name}`, known.length ? `a parameter among ${known.join(', ')}` : 'no parameters', `"${key}"`);
        }
        const value = Number(raw);
        if (raw === '' || !Number.isFinite(value)) throw new NapoodError(`${argument} ${name}:${key}`, 'a finite number', JSON.stringify(raw));
        checkRange(`${argument} ${name}:${key}`, value, spec);
        if (key in given) throw new NapoodError(`${argument} ${name}`, 'each parameter once', `"${key}" twice`);
        given[key] = value;
      }
    }
  }
  const params: Record<string, number> = {};
  for (const [key, spec] of Object.entries(def.params)) params[key] = key in given ? given[key] : spec.default;
  const keys = Object.keys(given);
  const base = layers ? `${name}[${layers.join('+')}]` : name;
  const textOut = keys.length ? `${base}:${keys.map((k) => `${k}=${given[k]}`).join(',')}` : base;
  return { text: textOut, name, params, given, def, ...(layers ? { layers } : {}) };
}

function checkRange(argument: string, value: number, spec: { min?: number; max?: number; exclusiveMin?: boolean; integer?: boolean }): void {
  if (spec.integer && !Number.isInteger(value)) throw new NapoodError(argument, 'an integer', String(value));
  if (spec.min !== undefined && (spec.exclusiveMin ? value <= spec.min : value < spec.min)) {
    throw new NapoodError(argument, `a value ${spec.exclusiveMin ? '>' : '≥'} ${spec.min}`, String(value));
  }
  if (spec.max !== undefined && value > spec.max) throw new NapoodError(argument, `a value ≤ ${spec.max}`, String(value));
}

/** Split `nap:eps=1,p=2,energy,react:p=90` into specs (see the header). */
export function parseMethodList(text: string, argument = '--methods'): MethodSpec[] {
  const items = splitOutsideBrackets(text).map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new NapoodError(argument, 'at least one method, e.g. nap,energy,react:p=90', JSON.stringify(text));
  const groups: string[] = [];
  for (const item of items) {
    if (item.includes('=') && !item.includes(':')) {
      if (groups.length === 0) throw new NapoodError(argument, 'a method name before its parameters', JSON.stringify(item));
      groups[groups.length - 1] += ',' + item;
    } else groups.push(item);
  }
  const specs = groups.map((g) => parseMethodSpec(g, argument));
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.text)) throw new NapoodError(argument, 'each method spec once', `"${s.text}" twice`);
    seen.add(s.text);
  }
  return specs;
}

/** Split at , and ; that are not inside [...] (layer names may hold commas). */
function splitOutsideBrackets(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '[') depth++;
    else if (ch === ']') depth = Math.max(0, depth - 1);
    else if ((ch === ',' || ch === ';') && depth === 0) { out.push(text.slice(start, i)); start = i + 1; }
  }
  out.push(text.slice(start));
  return out;
}
