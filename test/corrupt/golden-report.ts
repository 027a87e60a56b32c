/** Prints the per-corruption golden differences (node dist/test/corrupt/golden-report.js). */
import { manifest, npy, loadImage, runGolden, diffU8 } from './helpers.js';

const rows: string[] = [];
for (const name of manifest.corruptions) {
  const cells: string[] = [];
  for (const g of manifest.images) {
    const img = loadImage(g);
    const z = npy(`${g.name}_z.npy`).data;
    const exp = npy(`${g.name}_expected.npy`).data;
    const per = g.width * g.height * g.channels;
    const ci = manifest.corruptions.indexOf(name);
    let max = 0; let count = 0; let over1 = 0;
    g.severities.forEach((sev, si) => {
      const out = runGolden(name, img, sev, g.params, g.index, z);
      const off = (ci * g.severities.length + si) * per;
      const d = diffU8(out, exp.subarray(off, off + per));
      max = Math.max(max, d.max); count += d.count; over1 += d.over1;
    });
    cells.push(`${g.name}: max ${max} (${count} ≠, ${over1} >1 of ${per * g.severities.length})`);
  }
  rows.push(`${name.padEnd(18)} ${cells.join(' | ')}`);
}
console.log(rows.join('\n'));
