import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';

import { compareCodePoints, IMAGE_EXTENSIONS, imageFolder } from '../../../src/data/sources/image-folder.js';
import { DataError } from '../../../src/data/types.js';

/** Writes each file (path → contents) under a fresh temp dir; listing never decodes, so bytes are arbitrary. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'imgfolder-'));
  for (const [p, body] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), body);
  }
  return root;
}

/** torchvision.datasets.ImageFolder's classes and samples for `root`, with our extensions and hidden-entry rule. */
function torchvisionListing(root: string): { classes: string[]; samples: [string, number][] } {
  const py = `
import json, os, sys
from torchvision.datasets import ImageFolder
root = sys.argv[1]
exts = tuple('.' + e for e in json.loads(sys.argv[2]))
def valid(p):
    rel = os.path.relpath(p, root)
    return p.lower().endswith(exts) and not any(part.startswith('.') for part in rel.split(os.sep))
ds = ImageFolder(root, is_valid_file=valid)
print(json.dumps({'classes': ds.classes, 'samples': ds.samples}))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py, root, JSON.stringify(IMAGE_EXTENSIONS)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { classes: string[]; samples: [string, number][] };
}

describe('imageFolder', () => {
  it('lists the same classes, samples and labels as torchvision ImageFolder', async () => {
    const outside = tree({ 'o2.png': '', 'o1.jpg': '', 'skip.txt': '' });
    const root = tree({
      'b_class/img1.jpg': '',
      'b_class/sub/z.png': '',
      'b_class/sub/deep/q.jpeg': '',
      'b_class/sub-x/a.JPG': '', // '-' sorts before '/', so sub-x/ comes before sub/deep/
      'b_class/Z.png': '',
      'b_class/a.png': '',
      'b_class/\u{1F600}.png': '', // above U+FFFF: UTF-16 order and code-point order disagree
      'b_class/\uFF5A.png': '',
      'b_class/notes.txt': '',
      'b_class/.hidden.png': '',
      'a_class/x.png': '',
      'a_class/y.TIFF': '',
      'a_class/.cache/c.png': '',
      'C_upper/f.webp': '',
      'C_upper/g.avif': '',
      'C_upper/h.gif': '',
      'C_upper/i.bmp': '',
      'loose-file.png': '',
    });
    symlinkSync(outside, join(root, 'b_class', 'linked'));
    const ds = await imageFolder(root);
    const ref = torchvisionListing(root);
    assert.deepEqual(ds.classes, ref.classes);
    assert.deepEqual(ds.classes, ['C_upper', 'a_class', 'b_class']);
    assert.deepEqual(
      ds.paths.map((p, i) => [p, ds.labels()[i]]),
      ref.samples,
    );
    assert.equal(ds.length, 16);
    assert.ok(ds.paths.indexOf(join(root, 'b_class/sub-x/a.JPG')) < ds.paths.indexOf(join(root, 'b_class/sub/deep/q.jpeg')));
    assert.deepEqual(ds.warnings, []);
    assert.match(ds.describe(), /^image folder .+ \(3 classes, 16 files\)$/);

    const rec = await ds.read(0);
    assert.equal(rec.id, join(root, 'C_upper/f.webp'));
    assert.equal(rec.label, 0);
    assert.equal(rec.input.kind, 'encoded');
  });

  it('compares names by code point, as Python does', () => {
    assert.ok(compareCodePoints('\uFF5A', '\u{1F600}') < 0);
    assert.ok('\uFF5A' > '\u{1F600}'); // what a plain JS sort would do instead
    assert.ok(compareCodePoints('a', 'ab') < 0);
    assert.equal(compareCodePoints('x', 'x'), 0);
  });

  it('follows symlinks once: a cycle does not loop, a file reached twice is listed once', async () => {
    const root = tree({ 'cat/a.png': 'A', 'cat/sub/b.png': 'B', 'dog/c.png': 'C' });
    symlinkSync(join(root, 'cat'), join(root, 'cat', 'sub', 'loop')); // cycle back to an ancestor
    symlinkSync(join(root, 'cat', 'sub'), join(root, 'dog', 'again')); // a folder listed under cat already
    symlinkSync(join(root, 'cat', 'a.png'), join(root, 'dog', 'link-to-a.png')); // a file listed already
    symlinkSync(join(root, 'nowhere.png'), join(root, 'dog', 'broken.png'));
    const ds = await imageFolder(root);
    assert.deepEqual(ds.paths, [join(root, 'cat/a.png'), join(root, 'cat/sub/b.png'), join(root, 'dog/c.png')]);
    assert.deepEqual([...ds.labels()], [0, 0, 1]);
    assert.equal(ds.warnings.length, 2);
    assert.match(ds.warnings[0] as string, /broken\.png: broken symbolic link/);
    assert.match(ds.warnings[1] as string, /1 file\(s\) reached a second time through symbolic links/);

    const noLinks = await imageFolder(root, { followSymlinks: false });
    assert.deepEqual(noLinks.paths, ds.paths);
    assert.deepEqual(noLinks.warnings, []);
  });

  it('with followSymlinks false, linked folders and files are not listed', async () => {
    const outside = tree({ 'x.png': '' });
    const root = tree({ 'cat/a.png': '' });
    symlinkSync(outside, join(root, 'cat', 'ext'));
    symlinkSync(join(outside, 'x.png'), join(root, 'cat', 'y.png'));
    // Followed: y.png and ext/x.png are one file, listed once, at its first place in torchvision's
    // order (the files of cat/ come before those of cat/ext/).
    assert.deepEqual((await imageFolder(root)).paths, [join(root, 'cat/a.png'), join(root, 'cat/y.png')]);
    assert.deepEqual((await imageFolder(root, { followSymlinks: false })).paths, [join(root, 'cat/a.png')]);
  });

  it('honours an extension list, with or without dots, in any case', async () => {
    const root = tree({ 'c/a.png': '', 'c/b.JPG': '', 'c/c.npy': '' });
    assert.deepEqual((await imageFolder(root, { extensions: ['.NPY', 'png'] })).paths, [join(root, 'c/a.png'), join(root, 'c/c.npy')]);
  });

  it('warns about an empty class folder and keeps its label', async () => {
    const root = tree({ 'a/x.png': '', 'c/y.png': '', 'b/readme.txt': '', '.ipynb_checkpoints/k.png': '' });
    const ds = await imageFolder(root);
    assert.deepEqual(ds.classes, ['a', 'b', 'c']); // a hidden folder is not a class
    assert.deepEqual([...ds.labels()], [0, 2]);
    assert.equal(ds.warnings.length, 1);
    assert.match(ds.warnings[0] as string, /class "b" has no image files \(its label 1 is kept\)/);
  });

  it('rejects an empty root, a missing root, a file and a root without images, naming the path', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'imgfolder-empty-'));
    await assert.rejects(imageFolder(empty), (e: unknown) => e instanceof DataError && e.id === empty && /no class folders/.test(e.message));
    const missing = join(empty, 'not-here');
    await assert.rejects(imageFolder(missing), (e: unknown) => e instanceof DataError && e.message === `${missing}: no such folder`);
    const onlyText = tree({ 'a/x.txt': '' });
    await assert.rejects(imageFolder(onlyText), new RegExp(`${onlyText}: no image files found in 1 class folder`));
    await assert.rejects(imageFolder(join(onlyText, 'a', 'x.txt')), /not a folder/);
  });

  it('read() rejects with a DataError naming the file when it has gone', async () => {
    const root = tree({ 'a/x.png': 'bytes' });
    const ds = await imageFolder(root);
    const rec = await ds.read(0);
    assert.deepEqual(rec.input.kind === 'encoded' && Buffer.from(rec.input.bytes).toString(), 'bytes');
    rmSync(join(root, 'a/x.png'));
    await assert.rejects(ds.read(0), (e: unknown) => e instanceof DataError && e.id === join(root, 'a/x.png') && /ENOENT/.test(e.message));
    await assert.rejects(ds.read(5), RangeError);
  });
});
