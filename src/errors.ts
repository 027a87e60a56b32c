/**
 * napood's one error type. Every message names the argument, what was expected and what was
 * found (SPEC §6), e.g. `--features: expected a .safetensors file or a directory of .npy files,
 * found "x.txt"`. The CLI prints `napood: <message>` and exits with a non-zero code.
 */
export class NapoodError extends Error {
  /** The argument, file or field the message is about (e.g. "--features", "pooled.npy"). */
  readonly argument: string;
  constructor(argument: string, expected: string, found: string) {
    super(`${argument}: expected ${expected}, found ${found}`);
    this.name = 'NapoodError';
    this.argument = argument;
  }

  /** The same message about another argument name (an API option shown as its CLI flag). */
  renamed(argument: string): NapoodError {
    const e = new NapoodError(argument, '', '');
    e.message = argument + this.message.slice(this.argument.length);
    return e;
  }
}

/** Describe a value briefly for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 77) + '...' : value);
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  return String(value);
}

/** Format a shape as [N, C, H, W]. */
export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * A JSON.parse failure in words, without quoting the text: V8's messages quote its start
 * (`Unexpected token 'r', "root:$6$…" is not valid JSON`), and a file named by mistake (or on
 * purpose) must not leak into messages and logs. Gives the line and column when V8 gives a position.
 */
export function jsonSyntaxError(e: unknown, text: string): string {
  const message = String((e as Error)?.message ?? e);
  const at = /at position (\d+)/.exec(message);
  if (at) {
    const pos = Number(at[1]);
    if (pos >= text.trimEnd().length) return `not valid JSON (it ends early, after ${text.length} characters)`;
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    return `not valid JSON (a syntax error at line ${line}, column ${pos - before.lastIndexOf('\n')})`;
  }
  if (/end of JSON input/.test(message)) return `not valid JSON (it ends early, after ${text.length} characters)`;
  return `not valid JSON (a syntax error; ${text.length} characters${/^\s*[{[]/.test(text) ? '' : ', not starting with { or ['})`;
}
