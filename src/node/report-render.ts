/**
 * Figures to SVG and PNG: Vega-Lite specs (src/app/report/figures.ts) compiled by vega-lite and
 * drawn by vega's headless SVG renderer (pure JS, no canvas: text widths are vega's estimates),
 * then rasterised by resvg (@resvg/resvg-js ships its native binary in an npm package).
 *
 * Why here and not in the runtime-neutral app/: vega's SVG path would run in a browser too, but
 * vega + vega-lite are ~1 MB of code that the browser bundle of `napood` should not carry, and
 * resvg is native. The specs stay pure data in app/report/, so a page can render them itself.
 * Both libraries are loaded only when a report is made (dynamic imports).
 */
import { NapoodError } from '../errors.js';

const QUIET = { level: () => QUIET, error: () => QUIET, warn: () => QUIET, info: () => QUIET, debug: () => QUIET };

let libs: Promise<{ vega: typeof import('vega'); vl: typeof import('vega-lite') }> | undefined;

function load() {
  libs ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vl]) => ({ vega, vl }));
  return libs;
}

/** SVG text of a Vega-Lite spec (no external resources: data are inline, fonts are names only). */
export async function renderSvg(spec: Readonly<Record<string, unknown>>, id: string): Promise<string> {
  const { vega, vl } = await load();
  let view: InstanceType<typeof vega.View> | undefined;
  try {
    // vega-lite's default logger writes to the console; library code never does (warnings are dropped: the specs are ours).
    const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0], { logger: QUIET as never }).spec;
    view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
    const svg = await view.toSVG();
    // Vega writes the namespace URIs (xmlns) only; no href to anything outside.
    return svg;
  } catch (e) {
    throw new NapoodError(`figure ${id}`, 'a Vega-Lite spec that renders', (e as Error).message);
  } finally {
    view?.finalize();
  }
}

/** PNG bytes of an SVG at `scale` × its size (white background). */
export async function renderPng(svg: string, scale = 2): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}
