/**
 * The shape of one entry of the vector–Jacobian table (as tfjs-core's `src/gradients/*_grad.ts`
 * gradient configs): for the op of a forward node, the nodes that add (∂y/∂x)ᵀ · g to the
 * gradient of each input x that depends on the image, given the gradient g of the node's output y.
 */
import type { Builder } from '../../encode.js';
import type { ModelProto, NodeProto } from '../../proto.js';
import type { OnnxRuntime } from '../../runtime.js';

/** What a rule sees while it emits the backward nodes of one forward node. */
export interface VjpContext {
  /** The forward node and its index in the graph. */
  readonly n: NodeProto;
  readonly i: number;
  readonly b: Builder;
  readonly opset: number;
  /** Shape of a tensor (probed, or the dims of a constant). */
  shape(t: string): number[];
  /** Values of a small constant or probed tensor (pads, axes, slice bounds). */
  value(t: string): number[];
  /** True when t depends (differentiably) on the image input. */
  dep(t: string | undefined): t is string;
  /** Add a contribution g to the gradient of t (contributions are summed). */
  add(t: string, g: string): void;
  /** The summed gradient of t, or undefined when nothing flows into it (multi-output rules read their outputs' here). */
  grad(t: string): string | undefined;
  /** Sum g (shaped like `outT`) down to the shape of `inT` (numpy broadcasting). */
  unbroadcast(g: string, inT: string, outT: string): string;
  /** Refuse this node with a NapoodError "file: expected … (node name (Op)), found …". */
  fail(expected: string, found: string): never;
  /** What `prepare` returned for this node. */
  readonly prepared: unknown;
}

/** What `prepare` sees, before any backward node is emitted (the probe has run). */
export interface PrepareContext {
  readonly model: ModelProto;
  readonly n: NodeProto;
  readonly i: number;
  shape(t: string): number[];
  readonly file: string;
  /** The node for messages: `name (Op)` or `Op#i`. */
  readonly label: string;
  readonly runtime: OnnxRuntime;
  readonly threads?: number;
}

export interface GradRule {
  /** The ONNX op type (default domain). */
  readonly op: string;
  /**
   * Inputs not computed from the image whose values the rule reads (pads, axes, slice bounds,
   * split sizes): when they are not constants, the probe run fetches them (they must be small).
   */
  valueInputs?(n: NodeProto, opset: number): readonly string[];
  /** Inputs whose shapes the rule reads; when they are computed by nodes, the probe run fetches them. */
  shapeInputs?(n: NodeProto): readonly string[];
  /** True when gradients may flow into any output (Split); otherwise only the first output may have one. */
  readonly multiOutput?: boolean;
  /** Work before emission, run once per node (AveragePool measures onnxruntime's divisors); the result is `VjpContext.prepared`. */
  prepare?(c: PrepareContext): Promise<unknown>;
  /**
   * Emit the vector–Jacobian product for the node, gy being the gradient of its first output
   * (for a multiOutput rule whose first output receives none, gy is not defined: read c.grad).
   */
  vjp(c: VjpContext, gy: string): void;
}
