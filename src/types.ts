/**
 * Core data types shared by every part of napood.
 *
 * Conventions (SPEC §1): tensors are row-major, feature maps NCHW, features and logits are
 * Float32Array, scores are Float64Array and always "higher = more in-distribution".
 */

/** Feature map before global pooling, N×C×H×W (after the last ReLU: A ≥ 0). */
export interface FeatureMap {
  readonly data: Float32Array;
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

/**
 * What a batch can hold: the one list that the pipeline, feature dumps, the replay cache and
 * `napood dump` share.
 */
export const BATCH_FIELDS = Object.freeze(['featureMap', 'pooled', 'logits', 'labels'] as const);
export type BatchField = (typeof BATCH_FIELDS)[number];
/** The tensors of a feature dump: the batch fields and the linear head. */
export const DUMP_TENSORS = Object.freeze([...BATCH_FIELDS, 'head.weight', 'head.bias'] as const);
/** Fields small enough to keep per row for a replay (all but feature maps). */
export const ROW_CACHEABLE: readonly BatchField[] = Object.freeze(['pooled', 'logits', 'labels'] as const);

/** A batch of N rows; a method reads only the fields it declares in `needs`. */
export interface FeatureBatch {
  readonly n: number;
  readonly featureMap?: FeatureMap;
  /** Pooled penultimate feature z, N×C. */
  readonly pooled?: { readonly data: Float32Array; readonly c: number };
  /** Logits f, N×K. */
  readonly logits?: { readonly data: Float32Array; readonly k: number };
  /** Class labels, N (−1 where unknown). */
  readonly labels?: Int32Array;
  /** The preprocessed model input, in the model's layout (only when batches come from a model; ODIN perturbs it). */
  readonly input?: Float32Array;
  /**
   * Feature maps of other named layers from the same forward pass (or dump), by tensor name
   * (multi-layer NAP). `featureMap` stays the map before global pooling.
   */
  readonly featureMaps?: Readonly<Record<string, FeatureMap>>;
  /** Where each row came from, when the source knows (image paths). */
  readonly paths?: readonly string[];
}

/** A single linear classifier layer: logits = W z + b, W is K×C row-major. */
export interface LinearHead {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly k: number;
  readonly c: number;
}

/**
 * The classifier after z. `linear` is present when the head is one linear layer (DICE and ViM
 * need it); `forward` maps N×C pooled features to N×K logits for any head (ReAct, ASH, SCALE).
 */
export interface Head {
  readonly k: number;
  readonly c: number;
  readonly linear?: LinearHead;
  forward(z: Float32Array, n: number): Float32Array | Promise<Float32Array>;
}

/** What a method reads from a batch (or from its context). */
export type Need = BatchField | 'head' | 'linearHead' | 'model';

/** A numeric parameter of a method. */
export interface ParamSpec {
  readonly default: number;
  readonly min?: number;
  readonly max?: number;
  /** Whether the bounds are exclusive (e.g. temperature > 0). */
  readonly exclusiveMin?: boolean;
  readonly integer?: boolean;
  readonly doc: string;
  /** How the default shows in lists when the number is a stand-in (ViM's dim 0 = "auto"). */
  readonly defaultText?: string;
}

export type Params = Readonly<Record<string, number>>;

/** Counters a method may raise while scoring (e.g. how many samples had S_X ≤ 0). */
export type Diagnostics = Record<string, number>;

/**
 * The model behind a model-backed source, for methods that run it themselves (ODIN's input
 * perturbation): forward runs on any input, and the input gradient of any scalar loss L of the
 * logits, given as its gradient dL/df. Implemented over ONNX models (onnx/grad/access.ts);
 * absent on feature dumps. Inputs are float32 in the model's layout, n rows of `inputDims`.
 */
export interface ModelAccess {
  /** Axis order of the input (batch.input): the channel is axis 1 ('nchw') or the last axis ('nhwc'). */
  readonly layout: Layout;
  /** Dims of one input as the model takes it: [C, H, W], or [H, W, C] for 'nhwc'. */
  readonly inputDims: readonly number[];
  /** K, the length of a row of logits. */
  readonly numClasses: number;
  /** The normalisation std of each input channel, when known (input perturbations in pixel units divide by it). */
  readonly inputStd?: readonly number[];
  /** The logits f(x), N×K. */
  forward(input: Float32Array, n: number): Promise<Float32Array>;
  /**
   * (∂f/∂x)ᵀ · seed: the gradient ∂L/∂x of a scalar loss L(f(x)) from seed = ∂L/∂f (N×K, one
   * row per input), in the input's layout. One run of the model's gradient graph (which
   * recomputes f(x)); the seed is usually computed from logits the caller already has.
   */
  inputGradient(input: Float32Array, n: number, seed: Float32Array): Promise<Float32Array>;
}

/** Everything a method's `score` sees apart from the batch. */
export interface ScoreContext<S = unknown> {
  readonly params: Params;
  /** Fitted state (from `fit`), or undefined for methods without a fit step. */
  readonly state: S;
  readonly head?: Head;
  readonly diagnostics: Diagnostics;
  /**
   * Set by the pipeline when it measures ID accuracy: methods that change the logits (those with
   * `changesLogits`) hand the changed N×K logits here as they compute them.
   */
  readonly onLogits?: (logits: Float32Array) => void;
  /** The model the batches come from, when there is one (methods that need 'model'). */
  readonly model?: ModelAccess;
  /** Named layers the spec asks for (`nap[L1+L2]`: batch.featureMaps holds their maps). */
  readonly layers?: readonly string[];
}

/**
 * Streaming fit over ID-train batches. `passes` full passes are made over the training data;
 * `update` sees every batch of each pass in order, then `finish` returns plain JSON-serialisable
 * state (typed arrays are serialised by `state.ts`).
 */
export interface Fitter<S> {
  readonly passes: number;
  update(batch: FeatureBatch, pass: number): void;
  /** Called after each pass (pass = 0 … passes−1). */
  endPass?(pass: number): void;
  finish(): S;
}

export interface MethodDefinition<S = unknown> {
  readonly name: string;
  /** One line for `--help` and tables. */
  readonly summary: string;
  /** Where the formula comes from. */
  readonly source: string;
  /** Inputs the score needs, per batch (featureMap / pooled / logits) or from context (head). */
  readonly needs: readonly Need[];
  /** Needs that depend on the parameters (ODIN's input perturbation needs a model when noise > 0). */
  needsFor?(params: Params): readonly Need[];
  /** Inputs the fit needs from the ID-train data. */
  readonly fitNeeds?: readonly Need[];
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** Present when the method fits ID statistics. */
  fit?(params: Params, head: Head | undefined): Fitter<S>;
  score(batch: FeatureBatch, ctx: ScoreContext<S>): Float64Array | Promise<Float64Array>;
  /** True for methods that change the logits (ReAct, DICE, ASH, SCALE): they call ctx.onLogits. */
  readonly changesLogits?: boolean;
  /** True for methods that can score named layers instead of the map before pooling (`nap[LAYER+…]`). */
  readonly layered?: boolean;
  /**
   * Methods with a fit step: what is wrong with a state that did not come from `fit` (a state
   * file), for these parameters and this run, or undefined when it can be scored with. Checks
   * the state's fields, their typed-array sizes against each other and against the head and
   * the features (`ctx.channels`), and that its numbers are finite.
   */
  checkState?(state: unknown, ctx: StateCheckContext): StateProblem | undefined;
}

/** What a loaded state is checked against (MethodDefinition.checkState). */
export interface StateCheckContext {
  readonly params: Params;
  readonly head?: Head;
  /** Pooled feature channels C of the sets to score, when known (else the head's C). */
  readonly channels?: number;
}

/** Why a loaded state cannot be used: the two halves of a NapoodError message. */
export interface StateProblem {
  readonly expected: string;
  readonly found: string;
}

/** Axis order of a 4-D image tensor: channels first ([N, C, H, W]) or last ([N, H, W, C]). */
export type Layout = 'nchw' | 'nhwc';

/**
 * How library code talks to whoever runs it: it never writes to stderr itself. Front ends (the
 * CLI, a service, a page) print or forward these; every callback is optional.
 */
export interface NapoodEvents {
  /** Something the user should act on, the run goes on (e.g. negative activations, a head that differs). */
  warning?(message: string): void;
  /** Information about the run (images skipped or converted, the sample drawn, the normalisation assumed). */
  note?(message: string): void;
  /** Rows done of total in a named phase ("fit pass 1/2", "score", a set name). */
  progress?(done: number, total: number, what: string): void;
}
