/**
 * The vector–Jacobian table: one rule per ONNX op napood differentiates (default domain), by op
 * family. A new op is one entry in the family's file.
 */
import { ACTIVATION_RULES } from './activation.js';
import { ARITHMETIC_RULES } from './arithmetic.js';
import { CONV_RULES } from './conv.js';
import { LINEAR_RULES } from './linear.js';
import { NORMALIZATION_RULES } from './normalization.js';
import { POOL_RULES } from './pool.js';
import { REDUCE_RULES } from './reduce.js';
import type { GradRule } from './rule.js';
import { SHAPE_RULES } from './shape.js';

export type { GradRule, PrepareContext, VjpContext } from './rule.js';

function table(...families: (readonly GradRule[])[]): ReadonlyMap<string, GradRule> {
  const rules = new Map<string, GradRule>();
  for (const rule of families.flat()) {
    if (rules.has(rule.op)) throw new Error(`internal: two gradient rules for ${rule.op}`);
    rules.set(rule.op, rule);
  }
  return rules;
}

export const GRAD_RULES: ReadonlyMap<string, GradRule> = table(
  SHAPE_RULES, ACTIVATION_RULES, ARITHMETIC_RULES, NORMALIZATION_RULES, REDUCE_RULES, LINEAR_RULES, CONV_RULES, POOL_RULES,
);

/** Op types whose vector-Jacobian product napood generates (sorted). */
export const GRADIENT_OPS: readonly string[] = Object.freeze([...GRAD_RULES.keys()].sort());
