/**
 * Graph construction: encoding of the nodes and tensors generated graphs add (protobuf wire format,
 * wire.ts primitives), and the `Builder` that collects them under fresh names (grad/ uses it).
 */
import { DataType, numel, type AttributeProto, type NodeProto } from './proto.js';
import { WIRE_FIXED32, concatBytes, encodeVarint, lenField, stringField, varintField } from './wire.js';

/** An attribute of a generated node. */
export interface AttrSpec {
  readonly name: string;
  readonly i?: number;
  readonly f?: number;
  readonly s?: string;
  readonly ints?: readonly number[];
  readonly floats?: readonly number[];
}

function fixed32Field(no: number, value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, value, true);
  return concatBytes([encodeVarint(no * 8 + WIRE_FIXED32), b]);
}

export function encodeAttribute(a: AttrSpec): Uint8Array {
  const parts: Uint8Array[] = [stringField(1, a.name)];
  if (a.i !== undefined) parts.push(varintField(20, 2), varintField(3, a.i));
  else if (a.f !== undefined) parts.push(varintField(20, 1), fixed32Field(2, a.f));
  else if (a.s !== undefined) parts.push(varintField(20, 3), stringField(4, a.s));
  else if (a.ints !== undefined) parts.push(varintField(20, 7), ...a.ints.map((v) => varintField(8, v)));
  else if (a.floats !== undefined) parts.push(varintField(20, 6), ...a.floats.map((v) => fixed32Field(7, v)));
  else throw new RangeError(`attribute ${a.name} has no value`);
  return concatBytes(parts);
}

export function encodeNode(opType: string, inputs: readonly string[], outputs: readonly string[], name: string,
  attrs: readonly AttrSpec[] = [], domain = ''): Uint8Array {
  return concatBytes([
    ...inputs.map((s) => stringField(1, s)),
    ...outputs.map((s) => stringField(2, s)),
    stringField(3, name),
    stringField(4, opType),
    ...attrs.map((a) => lenField(5, encodeAttribute(a))),
    ...(domain !== '' ? [stringField(7, domain)] : []),
  ]);
}

/** A float32 or int64 TensorProto with raw_data. */
export function encodeTensor(name: string, dims: readonly number[], values: ArrayLike<number>, type: 'float32' | 'int64'): Uint8Array {
  const n = numel(dims);
  if (values.length !== n) throw new RangeError(`tensor ${name}: ${values.length} values for dims [${dims.join(', ')}]`);
  const size = type === 'float32' ? 4 : 8;
  const raw = new Uint8Array(n * size);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < n; i++) {
    if (type === 'float32') dv.setFloat32(i * 4, values[i]!, true);
    else dv.setBigInt64(i * 8, BigInt(values[i]!), true);
  }
  return concatBytes([
    ...dims.map((d) => varintField(1, d)),
    varintField(2, type === 'float32' ? DataType.FLOAT : DataType.INT64),
    stringField(8, name),
    lenField(9, raw),
  ]);
}

/** A decoded attribute re-encoded (numbers, number lists and strings only). */
export function copyAttribute(a: AttributeProto): AttrSpec | undefined {
  switch (a.type) {
    case 1: return { name: a.name, f: a.f ?? 0 };
    case 2: return { name: a.name, i: a.i ?? 0 };
    case 3: return { name: a.name, s: a.s ?? '' };
    case 6: return { name: a.name, floats: a.floats };
    case 7: return { name: a.name, ints: a.ints };
    default:
      if (a.i !== undefined) return { name: a.name, i: a.i };
      if (a.f !== undefined) return { name: a.name, f: a.f };
      if (a.s !== undefined) return { name: a.name, s: a.s };
      if (a.ints.length > 0) return { name: a.name, ints: a.ints };
      if (a.floats.length > 0) return { name: a.name, floats: a.floats };
      return undefined;
  }
}

/** Collects generated nodes and initializers under fresh names. */
export class Builder {
  readonly nodes: Uint8Array[] = [];
  readonly inits: Uint8Array[] = [];
  private counter = 0;
  constructor(private readonly taken: Set<string>, readonly opset: number) {}

  fresh(hint: string): string {
    for (;;) {
      const name = `napood_grad/${hint}_${this.counter++}`;
      if (!this.taken.has(name)) {
        this.taken.add(name);
        return name;
      }
    }
  }

  op(type: string, inputs: readonly string[], attrs: readonly AttrSpec[] = [], outputs = 1): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh(type));
    this.nodes.push(encodeNode(type, inputs, outs, outs[0]!, attrs));
    return outs;
  }

  op1(type: string, inputs: readonly string[], attrs: readonly AttrSpec[] = []): string {
    return this.op(type, inputs, attrs, 1)[0]!;
  }

  f32(values: ArrayLike<number>, dims: readonly number[] = []): string {
    const name = this.fresh('const');
    this.inits.push(encodeTensor(name, dims, values, 'float32'));
    return name;
  }

  i64(values: ArrayLike<number>, dims: readonly number[] = [values.length]): string {
    const name = this.fresh('const');
    this.inits.push(encodeTensor(name, dims, values, 'int64'));
    return name;
  }

  /** ReduceSum over `axes` keeping dims (axes as attribute before opset 13, as input from 13). */
  reduceSum(x: string, axes: readonly number[]): string {
    if (this.opset < 13) return this.op1('ReduceSum', [x], [{ name: 'axes', ints: axes }, { name: 'keepdims', i: 1 }]);
    return this.op1('ReduceSum', [x, this.i64(axes)], [{ name: 'keepdims', i: 1 }]);
  }

  /** ReduceMean over `axes` keeping dims (axes as attribute before opset 18, as input from 18). */
  reduceMean(x: string, axes: readonly number[]): string {
    if (this.opset < 18) return this.op1('ReduceMean', [x], [{ name: 'axes', ints: axes }, { name: 'keepdims', i: 1 }]);
    return this.op1('ReduceMean', [x, this.i64(axes)], [{ name: 'keepdims', i: 1 }]);
  }

  slice(x: string, starts: readonly number[], ends: readonly number[], axes: readonly number[], steps?: readonly number[]): string {
    const ins = [x, this.i64(starts), this.i64(ends), this.i64(axes)];
    if (steps !== undefined) ins.push(this.i64(steps));
    return this.op1('Slice', ins);
  }

  shape(x: string): string {
    return this.op1('Shape', [x]);
  }

  /** Zeros shaped like x. */
  zerosLike(x: string): string {
    return this.op1('ConstantOfShape', [this.shape(x)]);
  }
}

/** The attributes of a node, re-encoded (to emit the same op again with them). */
export function copyAttributes(n: NodeProto): AttrSpec[] {
  return n.attributes.map(copyAttribute).filter((a): a is AttrSpec => a !== undefined);
}
