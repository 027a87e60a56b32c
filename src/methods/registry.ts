/**
 * The one registry of scoring methods: a frozen table from name to definition. Registering a
 * name twice throws (no drifting second registry). `getMethod` fails with the list of names.
 */
import { NapoodError } from '../errors.js';
import type { MethodDefinition } from '../types.js';
import { ashB, ashP, ashS } from './ash.js';
import { dice } from './dice.js';
import { energy } from './energy.js';
import { gen } from './gen.js';
import { knn } from './knn.js';
import { mahalanobis } from './mahalanobis.js';
import { maxlogit } from './maxlogit.js';
import { msp } from './msp.js';
import { nap } from './nap.js';
import { napA, napD, napE, napM, napR } from './napx.js';
import { odin } from './odin.js';
import { react } from './react.js';
import { scale } from './scale.js';
import { vim } from './vim.js';

export function buildRegistry(definitions: readonly MethodDefinition<any>[]): ReadonlyMap<string, MethodDefinition<any>> {
  const table = new Map<string, MethodDefinition<any>>();
  for (const def of definitions) {
    if (table.has(def.name)) throw new Error(`method "${def.name}" is registered twice`);
    Object.freeze(def.params);
    table.set(def.name, Object.freeze(def));
  }
  return table;
}

export const METHODS: ReadonlyMap<string, MethodDefinition<any>> = buildRegistry([
  nap, msp, maxlogit, energy, odin, mahalanobis, react, dice, ashP, ashB, ashS, knn, vim, gen, scale,
  napE, napR, napA, napD, napM,
]);

export function methodNames(): string[] {
  return [...METHODS.keys()];
}

export function getMethod(name: string, argument = '--method'): MethodDefinition<any> {
  const def = METHODS.get(name);
  if (!def) throw new NapoodError(argument, `one of ${methodNames().join(', ')}`, JSON.stringify(name));
  return def;
}
