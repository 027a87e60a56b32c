/**
 * Expands image inputs (SPEC §4.2) into an ordered list of {path, label}:
 * - a file: taken as is (its extension or, failing that, its first bytes must say PNG, JPEG or
 *   WebP); label −1;
 * - a folder: every .png / .jpg / .jpeg / .webp file below it (extension, case-insensitive),
 *   recursively, symbolic links followed (each real folder once). If the folder holds no image
 *   file directly but has subfolders, it is a class tree as torchvision's `ImageFolder`: the
 *   class names are its immediate subfolders sorted, class index = position in that list, and the
 *   images are taken class by class. Otherwise every image gets label −1;
 * - `@list.txt`: one path per line, relative to the list's folder (absolute allowed), optionally
 *   `path<TAB>label` with label an integer (−1 = unknown) or a class name; blank lines and lines
 *   starting with `#` are skipped.
 *
 * Order is deterministic and the same as torchvision `ImageFolder` / `sorted(os.walk(…))`:
 * folders sorted by full path, files sorted by name within each, names compared by Unicode code
 * point (Python's string order, independent of locale). Files with other extensions inside
 * folders are left out and counted in `ignored`.
 */
import { readdir, readFile, realpath, stat, open } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { NapoodError, describe } from '../../errors.js';
import { IMAGE_EXTENSIONS, compareCodePoints, hasImageExtension, sniffFormat, type ImageItem, type ImageList } from '../../images/items.js';

export { IMAGE_EXTENSIONS, compareCodePoints, hasImageExtension, labelName, sampleItems, sniffFormat, type ImageFormat, type ImageItem, type ImageList } from '../../images/items.js';

export interface ExpandOptions {
  /** Argument name for messages (default "images"). */
  readonly argument?: string;
  /** 'auto' (default): class folders and list labels give labels; 'none': every label −1. */
  readonly labels?: 'auto' | 'none';
  /**
   * The model's class names in index order (e.g. from a classes.txt): class folders and named
   * list labels are mapped through it. Without it the first class tree met defines the classes.
   */
  readonly classes?: readonly string[];
}

async function readHead(path: string, bytes = 12): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

interface ClassState {
  classes: string[];
  fixed: boolean;
  unknown: Set<string>;
}

function classIndex(state: ClassState, name: string): number {
  const i = state.classes.indexOf(name);
  if (i < 0) state.unknown.add(name);
  return i;
}

/** All image files below `root`, in `sorted(os.walk(root))` order; non-images go to `ignored`. */
async function walk(root: string, ignored: string[]): Promise<string[]> {
  const dirs: { path: string; files: string[] }[] = [];
  const seen = new Set<string>();
  const visit = async (dir: string): Promise<void> => {
    const real = await realpath(dir);
    if (seen.has(real)) return;
    seen.add(real);
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => compareCodePoints(a.name, b.name));
    const files: string[] = [];
    for (const e of entries) {
      const p = join(dir, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const s = await stat(p).catch(() => undefined);
        isDir = s?.isDirectory() ?? false;
        isFile = s?.isFile() ?? false;
      }
      if (isDir) await visit(p);
      else if (isFile) {
        if (hasImageExtension(e.name)) files.push(e.name);
        else ignored.push(p);
      }
    }
    files.sort(compareCodePoints);
    dirs.push({ path: dir, files });
  };
  await visit(root);
  dirs.sort((a, b) => compareCodePoints(a.path, b.path));
  return dirs.flatMap((d) => d.files.map((f) => join(d.path, f)));
}

async function statOrFail(path: string, argument: string, expected: string): Promise<import('node:fs').Stats> {
  try {
    return await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new NapoodError(argument, expected, `${describe(path)} (${code === 'ENOENT' ? 'no such file or folder' : code ?? String(e)})`);
  }
}

async function expandFolder(dir: string, argument: string, opts: ExpandOptions, state: ClassState, ignored: string[]): Promise<ImageItem[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  let hasDirectImages = false;
  const subdirs: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    const s = e.isSymbolicLink() ? await stat(p).catch(() => undefined) : e;
    if (!s) continue;
    if (s.isDirectory()) subdirs.push(e.name);
    else if (s.isFile() && hasImageExtension(e.name)) hasDirectImages = true;
  }
  const items: ImageItem[] = [];
  if (opts.labels !== 'none' && !hasDirectImages && subdirs.length > 0) {
    subdirs.sort(compareCodePoints);
    if (!state.fixed && state.classes.length === 0) state.classes = [...subdirs];
    for (const name of subdirs) {
      const label = classIndex(state, name);
      for (const p of await walk(join(dir, name), ignored)) items.push({ path: p, label });
    }
  } else {
    for (const p of await walk(dir, ignored)) items.push({ path: p, label: -1 });
  }
  if (items.length === 0) {
    throw new NapoodError(argument, `a folder with ${IMAGE_EXTENSIONS.join('/')} images`, `${describe(dir)} with none`);
  }
  return items;
}

async function expandList(listFile: string, argument: string, opts: ExpandOptions, state: ClassState): Promise<ImageItem[]> {
  const where = `${argument} @${listFile}`;
  let text: string;
  try {
    text = await readFile(listFile, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new NapoodError(argument, 'a readable list file after @', `${describe(listFile)} (${code === 'ENOENT' ? 'no such file' : code ?? String(e)})`);
  }
  const base = dirname(resolve(listFile));
  const items: ImageItem[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const tab = line.indexOf('\t');
    const rel = (tab >= 0 ? line.slice(0, tab) : line).trim();
    const labelText = tab >= 0 ? line.slice(tab + 1).trim() : '';
    const at = `${where} line ${i + 1}`;
    const path = isAbsolute(rel) ? rel : join(base, rel);
    let label = -1;
    if (labelText !== '' && opts.labels !== 'none') {
      if (/^-?\d+$/.test(labelText)) {
        label = Number(labelText);
        if (label < -1 || !Number.isSafeInteger(label)) throw new NapoodError(at, 'a label ≥ −1 (−1 = unknown) or a class name', describe(labelText));
        if (state.classes.length > 0 && label >= state.classes.length) {
          throw new NapoodError(at, `a class index below ${state.classes.length} (the number of classes)`, describe(labelText));
        }
      } else {
        label = classIndex(state, labelText);
      }
    }
    const s = await statOrFail(path, at, 'an existing image file');
    if (!s.isFile()) throw new NapoodError(at, 'an image file', `${describe(rel)} (a folder or special file)`);
    items.push({ path, label });
  }
  if (items.length === 0) throw new NapoodError(where, 'at least one image path (one per line)', 'none');
  return items;
}

/**
 * Expand files, folders and `@list` files into image items, in the order given. Missing paths,
 * unreadable lists, folders without images and explicit files that are not PNG/JPEG/WebP throw
 * a NapoodError naming the path.
 */
export async function expandImageInputs(inputs: readonly string[], opts: ExpandOptions = {}): Promise<ImageList> {
  const argument = opts.argument ?? 'images';
  if (inputs.length === 0) throw new NapoodError(argument, 'image files, folders or @list.txt', 'nothing');
  const state: ClassState = { classes: opts.classes ? [...opts.classes] : [], fixed: opts.classes !== undefined, unknown: new Set() };
  const ignored: string[] = [];
  const items: ImageItem[] = [];
  for (const input of inputs) {
    if (input.startsWith('@')) {
      items.push(...(await expandList(input.slice(1), argument, opts, state)));
      continue;
    }
    const s = await statOrFail(input, argument, 'an existing image file, folder or @list.txt');
    if (s.isDirectory()) {
      items.push(...(await expandFolder(input, argument, opts, state, ignored)));
    } else if (s.isFile()) {
      if (!hasImageExtension(input)) {
        const fmt = sniffFormat(await readHead(input));
        if (!fmt) throw new NapoodError(argument, `an image file (${IMAGE_EXTENSIONS.join(', ')}), a folder or @list.txt`, describe(input));
      }
      items.push({ path: input, label: -1 });
    } else {
      throw new NapoodError(argument, 'an image file, folder or @list.txt', `${describe(input)} (a special file)`);
    }
  }
  return {
    items,
    classes: opts.labels === 'none' ? [] : state.classes,
    ignored,
    unknownClasses: [...state.unknown].sort(compareCodePoints),
  };
}

