/**
 * A parser for the Python literal subset numpy writes in a .npy header (npy.ts): dict, tuple,
 * list, str, int, True / False / None. Hand-written so that any header fails with a NapoodError
 * naming the file and the character where it went wrong: nesting is bounded (no stack overflow
 * on "((((…"), integers must be below 2^53, and dict keys such as "__proto__" are plain keys.
 */
import { NapoodError, describe } from '../../errors.js';

/** Deepest nesting of ( [ { in a header (numpy's own headers nest 2 levels). */
const NPY_MAX_NESTING = 32;

export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

export class PyLiteralParser {
  private i = 0;
  private depth = 0;
  constructor(private readonly s: string, private readonly file: string) {}

  private fail(expected: string): never {
    const at = this.s.slice(this.i, this.i + 20);
    throw new NapoodError(this.file, `a .npy header (Python dict literal) with ${expected} at character ${this.i}`, at ? describe(at) : 'the end of the header');
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  parseAll(): PyValue {
    const v = this.value();
    this.ws();
    if (this.i !== this.s.length) this.fail('nothing after the dict');
    return v;
  }

  private value(): PyValue {
    this.ws();
    const c = this.s[this.i];
    if (c === '{' || c === '(' || c === '[') {
      // Bounded recursion: a header of "((((…" must not overflow the stack.
      if (++this.depth > NPY_MAX_NESTING) this.fail(`at most ${NPY_MAX_NESTING} nested brackets`);
      const v = c === '{' ? this.dict() : this.seq(c === '(' ? ')' : ']');
      this.depth--;
      return v;
    }
    if (c === "'" || c === '"') return this.str();
    if (c !== undefined && /[-+0-9]/.test(c)) return this.int();
    for (const [word, val] of [['True', true], ['False', false], ['None', null]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return val;
      }
    }
    return this.fail('a value');
  }

  private str(): string {
    const q = this.s[this.i++];
    let out = '';
    while (this.i < this.s.length && this.s[this.i] !== q) {
      if (this.s[this.i] === '\\') {
        const n = this.s[this.i + 1];
        out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
        this.i += 2;
      } else {
        out += this.s[this.i++];
      }
    }
    if (this.s[this.i] !== q) this.fail('a closing quote');
    this.i++;
    return out;
  }

  private int(): number {
    const m = /^[-+]?[0-9]+[lL]?/.exec(this.s.slice(this.i, this.i + 40));
    if (!m) return this.fail('an integer');
    this.i += m[0].length;
    const v = Number(m[0].replace(/[lL]$/, ''));
    if (!Number.isSafeInteger(v)) this.fail('an integer below 2^53');
    return v;
  }

  private seq(close: string): PyValue[] {
    this.i++;
    const out: PyValue[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        return out;
      }
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) this.fail(`',' or '${close}'`);
    }
  }

  private dict(): { [key: string]: PyValue } {
    this.i++;
    // No prototype: a key "__proto__" is a key like any other.
    const out: { [key: string]: PyValue } = Object.create(null);
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      const c = this.s[this.i];
      if (c !== "'" && c !== '"') this.fail('a quoted key');
      const key = this.str();
      this.ws();
      if (this.s[this.i] !== ':') this.fail("':' after a key");
      this.i++;
      out[key] = this.value();
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') this.fail("',' or '}'");
    }
  }
}
