/**
 * Expands image inputs (SPEC §4.2) into an ordered list of {path, label}:
 * - a file: taken as is (its extension or, failing that, its first bytes must say PNG, JPEG or
 *   WebP); label −1;
 * - a folder: every .png / .jpg / .jpeg / .webp file below it (extension, case-insensitive),
 *   recursively, symbolic links followed (each real folder once). If the folder holds no image
 *   file directly but has subfolders, it is a class tree as torchvision's `ImageFolder`: the
 *   class names are its immediate subfolders sorted, class index = position in that list, and the
 *   images are taken class by class. Otherwise every image gets label −1;
 *   Entries with an image extension that are not regular files (FIFOs, sockets, dangling or
 *   looping symbolic links) are kept, and the loader skips each with its reason (never opening
 *   it), so nothing vanishes silently;
 * - `@list.txt`: one path per line, relative to the list's folder (absolute allowed), optionally
 *   `path<TAB>label` with label an integer (−1 = unknown) or a class name; blank lines and lines
 *   starting with `#` are skipped. The list must be a regular file of UTF-8 text (at most
 *   256 MiB; a binary file is refused without quoting it), and each path an existing regular file.
 *
 * A FIFO, device or folder where a file is expected is a NapoodError saying what it is; such a
 * path is never opened (a FIFO would block forever).
 *
 * Order is deterministic and the same as torchvision `ImageFolder` / `sorted(os.walk(…))`:
 * folders sorted by full path, files sorted by name within each, names compared by Unicode code
 * point (Python's string order, independent of locale). Files with other extensions inside
 * folders are left out and counted in `ignored`.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { NapoodError, describe } from '../../errors.js';
import { IMAGE_EXTENSIONS, byteCount, compareCodePoints, describeBytes, groupDigits, hasImageExtension, sniffFormat, type ImageItem, type ImageList } from '../../images/items.js';
import { OpenFailure, fileKind, openFailure, openRegularFile, readFully } from './files.js';

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

/** The first bytes of a regular file (never opens anything else). */
async function readHead(path: string, argument: string, bytes = 12): Promise<Uint8Array> {
  let opened: Awaited<ReturnType<typeof openRegularFile>>;
  try {
    opened = await openRegularFile(path);
  } catch (e) {
    if (e instanceof OpenFailure) throw new NapoodError(argument, 'an image file, folder or @list.txt', `${describe(path)} (${e.reason})`);
    throw e;
  }
  try {
    const buf = new Uint8Array(bytes);
    return buf.subarray(0, await readFully(opened.handle, buf, 0, bytes, 0));
  } finally {
    await opened.handle.close();
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

/**
 * All image files below `root`, in `sorted(os.walk(root))` order; non-images go to `ignored`.
 * Entries with an image extension that are not regular files (a FIFO, a socket, a dangling
 * symbolic link, a link loop) are kept: the loader reports each as skipped, with the reason,
 * without opening it, so nothing vanishes silently. A folder that cannot be read is a NapoodError.
 */
async function walk(root: string, ignored: string[], argument: string): Promise<string[]> {
  const dirs: { path: string; files: string[] }[] = [];
  const seen = new Set<string>();
  const visit = async (dir: string): Promise<void> => {
    let real: string;
    let entries: import('node:fs').Dirent[];
    try {
      real = await realpath(dir);
      if (seen.has(real)) return;
      seen.add(real);
      entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => compareCodePoints(a.name, b.name));
    } catch (e) {
      throw new NapoodError(argument, 'folders that can be read', `${describe(dir)} (${await openFailure(dir, e)})`);
    }
    const files: string[] = [];
    for (const e of entries) {
      const p = join(dir, e.name);
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) isDir = (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
      if (isDir) await visit(p);
      else if (hasImageExtension(e.name)) files.push(e.name);
      else ignored.push(p);
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
    const why = await openFailure(path, e);
    throw new NapoodError(argument, expected, `${describe(path)} (${why === 'no such file' ? 'no such file or folder' : why})`);
  }
}

async function expandFolder(dir: string, argument: string, opts: ExpandOptions, state: ClassState, ignored: string[]): Promise<ImageItem[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new NapoodError(argument, 'a folder that can be read', `${describe(dir)} (${await openFailure(dir, e)})`);
  }
  let hasDirectImages = false;
  const subdirs: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    const isDir = e.isSymbolicLink() ? (await stat(p).catch(() => undefined))?.isDirectory() ?? false : e.isDirectory();
    if (isDir) subdirs.push(e.name);
    else if (hasImageExtension(e.name)) hasDirectImages = true;
  }
  const items: ImageItem[] = [];
  if (opts.labels !== 'none' && !hasDirectImages && subdirs.length > 0) {
    subdirs.sort(compareCodePoints);
    if (!state.fixed && state.classes.length === 0) state.classes = [...subdirs];
    for (const name of subdirs) {
      const label = classIndex(state, name);
      for (const p of await walk(join(dir, name), ignored, argument)) items.push({ path: p, label });
    }
  } else {
    for (const p of await walk(dir, ignored, argument)) items.push({ path: p, label: -1 });
  }
  if (items.length === 0) {
    throw new NapoodError(argument, `a folder with ${IMAGE_EXTENSIONS.join('/')} images`, `${describe(dir)} with none`);
  }
  return items;
}

/** Lists larger than this are refused (a list of 1M paths is ~100 MB). */
export const MAX_LIST_BYTES = 256 * 1024 * 1024;

/** The text of an @list: a regular file (never a FIFO or device), at most MAX_LIST_BYTES, UTF-8 text. */
async function readListFile(listFile: string, argument: string): Promise<string> {
  const expected = 'a readable list file after @';
  let opened: Awaited<ReturnType<typeof openRegularFile>>;
  try {
    opened = await openRegularFile(listFile);
  } catch (e) {
    if (e instanceof OpenFailure) throw new NapoodError(argument, expected, `${describe(listFile)} (${e.reason})`);
    throw e;
  }
  const { handle, size } = opened;
  try {
    if (size > MAX_LIST_BYTES) throw new NapoodError(argument, `${expected} of at most ${groupDigits(MAX_LIST_BYTES)} bytes`, `${describe(listFile)} (${byteCount(size)})`);
    const buf = Buffer.allocUnsafe(size);
    const bytes = buf.subarray(0, await readFully(handle, buf, 0, size, 0));
    // A list's lines are quoted in messages (the paths): refuse binary files without quoting them.
    if (bytes.includes(0)) throw new NapoodError(argument, expected, `${describe(listFile)} (binary data: ${describeBytes(bytes)})`);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new NapoodError(argument, expected, `${describe(listFile)} (not UTF-8 text: ${describeBytes(bytes)})`);
    }
  } finally {
    await handle.close().catch(() => {});
  }
}

async function expandList(listFile: string, argument: string, opts: ExpandOptions, state: ClassState): Promise<ImageItem[]> {
  const where = `${argument} @${listFile}`;
  const text = await readListFile(listFile, argument);
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
    if (!s.isFile()) throw new NapoodError(at, 'an image file', `${describe(rel)} (${fileKind(s)})`);
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
        const fmt = sniffFormat(await readHead(input, argument));
        if (!fmt) throw new NapoodError(argument, `an image file (${IMAGE_EXTENSIONS.join(', ')}), a folder or @list.txt`, describe(input));
      }
      items.push({ path: input, label: -1 });
    } else {
      throw new NapoodError(argument, 'an image file, folder or @list.txt', `${describe(input)} (${fileKind(s)})`);
    }
  }
  return {
    items,
    classes: opts.labels === 'none' ? [] : state.classes,
    ignored,
    unknownClasses: [...state.unknown].sort(compareCodePoints),
  };
}

