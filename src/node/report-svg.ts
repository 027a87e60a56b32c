/**
 * The SVG of a report figure, made light for index.html and figures/*.svg without changing what
 * it draws (the PNGs are rasterised from vega's SVG before this; test/report/svg.test.ts renders
 * both through resvg and compares the pixels).
 *
 * vega's SVG renderer writes every coordinate at full float precision (translate(170.55936523084912,…))
 * and every attribute on every item; a scatter point costs ~150 bytes. Here, on vega 6's output:
 * - geometry (d, transform, x, y, …) is rounded to 0.1 px (a bar's edges are rounded, not its
 *   width, so adjacent bars still meet);
 * - a symbol item that is vega's circle path under translate(x,y) becomes <circle cx cy r>;
 * - on an item without a stroke, stroke-width (unused) goes and opacity becomes fill-opacity (the
 *   same paint for a fill-only shape; fill-opacity, unlike opacity, is inherited); opacity="1" goes;
 * - consecutive items of a mark (points, bars, rules, labels) that share their inherited paint
 *   attributes (fill, stroke, font, …) get them from one <g>; opacity is never moved (each item is
 *   still painted on its own, so overlapping points still darken each other);
 * - what draws nothing goes: a rect of zero width or height without a stroke, vega's empty
 *   group backgrounds (M0,0h0v0h0Z, no paint) and its never-displayed foreground paths.
 * Anything this does not recognise is left as vega wrote it, only rounded.
 */

const GEOMETRY = new Set(['d', 'transform', 'x', 'y', 'x1', 'x2', 'y1', 'y2', 'width', 'height', 'cx', 'cy', 'r', 'dx', 'dy']);
/** Presentation attributes that SVG inherits: the only ones moved to a shared <g>. */
const INHERITED = new Set(['fill', 'fill-opacity', 'fill-rule', 'stroke', 'stroke-width', 'stroke-opacity', 'stroke-dasharray', 'stroke-dashoffset',
  'stroke-linecap', 'stroke-linejoin', 'stroke-miterlimit', 'font-family', 'font-size', 'font-style', 'font-weight', 'text-anchor', 'pointer-events']);
const NUMBER = /-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/gi;

/** `x` at 0.1 (no "-0", no trailing zeros). */
export function round1(x: number): string {
  const r = Math.round(x * 10) / 10;
  return String(r === 0 ? 0 : r);
}

const roundNumbers = (s: string) => s.replace(NUMBER, (m) => (/[.e]/i.test(m) ? round1(Number(m)) : m));

type Attrs = Map<string, string>;

function parseAttrs(text: string): Attrs {
  const a: Attrs = new Map();
  for (const m of text.matchAll(/([a-zA-Z][\w:.-]*)="([^"]*)"/g)) a.set(m[1], m[2]);
  return a;
}

const attrText = (a: Attrs) => [...a].map(([k, v]) => ` ${k}="${v}"`).join('');

const RECT = /^M(-?[\d.e-]+),(-?[\d.e-]+)h(-?[\d.e-]+)v(-?[\d.e-]+)h(-?[\d.e-]+)Z$/;

/** A rect path with its corners rounded (so that neighbours still meet); undefined when it has no area; null when `d` is no rect. */
function rectPath(d: string): string | undefined | null {
  const m = RECT.exec(d);
  if (!m) return null;
  const [x, y, w, h, back] = m.slice(1).map(Number);
  if (back !== -w) return null;
  if (w === 0 || h === 0) return undefined;
  const x0 = Number(round1(x)), y0 = Number(round1(y));
  const w1 = Number(round1(Number(round1(x + w)) - x0)), h1 = Number(round1(Number(round1(y + h)) - y0));
  return `M${round1(x0)},${round1(y0)}h${round1(w1)}v${round1(h1)}h${round1(-w1)}Z`;
}

const CIRCLE = /^M(\d*\.?\d+),0A\1,\1,0,1,1,-\1,0A\1,\1,0,1,1,\1,0$/;
const TRANSLATE = /^translate\((-?[\d.e-]+),(-?[\d.e-]+)\)$/;

interface Item { tag: string; attrs: Attrs; text?: string }

/** One leaf item of a mark, compacted; undefined when it draws nothing. */
function compactItem(tag: string, attrs: Attrs, text: string | undefined): Item | undefined {
  const a = new Map(attrs);
  if (a.get('opacity') === '1') a.delete('opacity');
  const stroked = a.has('stroke') && a.get('stroke') !== 'none';
  if (!stroked && tag === 'path') {
    a.delete('stroke-width');
    if (a.has('opacity') && !a.has('fill-opacity')) { a.set('fill-opacity', a.get('opacity')!); a.delete('opacity'); }
  }
  if (tag === 'path') {
    const d = a.get('d') ?? '';
    const t = TRANSLATE.exec(a.get('transform') ?? '');
    const c = CIRCLE.exec(d);
    if (c && t) {
      a.delete('d');
      a.delete('transform');
      return { tag: 'circle', attrs: new Map([['cx', round1(Number(t[1]))], ['cy', round1(Number(t[2]))], ['r', round1(Number(c[1]))], ...a]) };
    }
    const rect = rectPath(d);
    if (rect === undefined && !stroked) return undefined;
    if (rect) a.set('d', rect);
  }
  for (const [k, v] of a) if (GEOMETRY.has(k)) a.set(k, roundNumbers(v));
  return { tag, attrs: a, text };
}

const pick = (a: Attrs, keep: (k: string) => boolean) => new Map([...a].filter(([k]) => keep(k)));
const paintKey = (i: Item) => attrText(pick(i.attrs, (k) => INHERITED.has(k)));
const itemText = (i: Item, a: Attrs) => (i.text === undefined ? `<${i.tag}${attrText(a)}/>` : `<${i.tag}${attrText(a)}>${i.text}</${i.tag}>`);

const ITEM = /<(path|line|text) ([^>]*?)(?:\/>|>([^<]*)<\/text>)/g;

/** The leaf items of one mark, with runs that share their inherited paint attributes under one <g>. */
function compactItems(body: string): string {
  const items: Item[] = [];
  for (const m of body.matchAll(ITEM)) {
    const it = compactItem(m[1], parseAttrs(m[2]), m[3]);
    if (it) items.push(it);
  }
  const out: string[] = [];
  for (let i = 0; i < items.length;) {
    const key = paintKey(items[i]);
    let j = i + 1;
    while (j < items.length && paintKey(items[j]) === key) j++;
    if (j - i === 1 || key === '') {
      for (const it of items.slice(i, j)) out.push(itemText(it, it.attrs));
    } else {
      const inner = items.slice(i, j).map((it) => itemText(it, pick(it.attrs, (k) => !INHERITED.has(k))));
      out.push(`<g${key}>${inner.join('')}</g>`);
    }
    i = j;
  }
  return out.join('');
}

/** A mark group whose children are all leaf items (vega writes one per mark: points, bars, rules, labels, lines). */
const MARK_GROUP = /(<g class="mark-(?:symbol|rect|rule|text|line|path|area) [^"]*"[^>]*>)((?:<path [^>]*\/>|<line [^>]*\/>|<text [^>]*>[^<]*<\/text>)*)<\/g>/g;

/** vega's SVG of a figure made light (see the file's comment); what it draws is unchanged up to 0.05 px. */
export function compactSvg(svg: string): string {
  return svg
    .replace(/<path class="foreground" aria-hidden="true" d=""(?: pointer-events="none")? display="none"\/>/g, '')
    .replace(/<path class="background" aria-hidden="true" d="M0,0h0v0h0Z"(?: pointer-events="none")?\/>/g, '')
    .replace(MARK_GROUP, (_, open: string, body: string) => `${open}${compactItems(body)}</g>`)
    .replace(/ (d|transform|x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g, (_, k: string, v: string) => ` ${k}="${roundNumbers(v)}"`);
}
