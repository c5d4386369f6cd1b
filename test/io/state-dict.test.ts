import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { nn, scope, tensor, zeros } from '../../src/index.js';
import { FileWriteError, weightsFormatOf, loadStateDictFile, savePt, saveSafetensors, saveStateDict, WeightsFileError } from '../../src/io/index.js';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { assertRefused, hex, tempDir } from './helpers.js';

describe('atomic writes', () => {
  it('replaces the file whole and leaves no temporary file', () => {
    const dir = tempDir();
    const p = join(dir, 'w.bin');
    writeFileAtomic(p, [new Uint8Array([1, 2]), new Uint8Array([3])]);
    writeFileAtomic(p, [new Uint8Array([4, 5, 6, 7])]);
    assert.deepEqual([...readFileSync(p)], [4, 5, 6, 7]);
    assert.deepEqual(readdirSync(dir), ['w.bin']);
  });

  it('leaves the previous file intact, and no temporary file, when a write fails midway', () => {
    const dir = tempDir();
    const p = join(dir, 'model.safetensors');
    scope(() => saveSafetensors(p, { a: tensor([1, 2, 3], { dtype: 'float32' }) }));
    const before = readFileSync(p);
    function* failing(): Generator<Uint8Array> {
      yield new Uint8Array(1000);
      throw new Error('disk on fire');
    }
    assert.throws(() => writeFileAtomic(p, failing()), /disk on fire/);
    // A disposed tensor among the inputs: refused, the previous file untouched.
    scope(() => {
      const b = zeros([10]);
      b.dispose();
      assertRefused(() => saveSafetensors(p, new Map([['a', zeros([1000])], ['b', b]])), /tensor 'b' was disposed/);
    });
    assert.deepEqual(readFileSync(p), before);
    assert.deepEqual(readdirSync(dir), ['model.safetensors']);
    // A directory that does not exist: a clean error, nothing created.
    assert.throws(() => saveStateDict(join(dir, 'missing', 'x.pt'), new Map()), /ENOENT/);
    assert.deepEqual(readdirSync(dir), ['model.safetensors']);
  });

  it('keeps the mode of the file it replaces, and replaces the target of a symlink', () => {
    const dir = tempDir();
    const p = join(dir, 'real.bin');
    writeFileSync(p, 'old');
    chmodSync(p, 0o600);
    symlinkSync(p, join(dir, 'link.bin'));
    writeFileAtomic(join(dir, 'link.bin'), [new Uint8Array([9])]);
    assert.equal(statSync(p).mode & 0o777, 0o600);
    assert.deepEqual([...readFileSync(p)], [9]);
    assert.ok(statSync(join(dir, 'link.bin'), { throwIfNoEntry: true }).isFile());
    assert.deepEqual(readdirSync(dir).sort(), ['link.bin', 'real.bin']);
  });
});

describe('write errors name the file', () => {
  it('a missing folder: FileWriteError naming the target, not the temporary file, with the code kept', () => {
    const target = join(tempDir(), 'missing', 'model.safetensors');
    assert.throws(() => writeFileAtomic(target, [new Uint8Array(4)]), (e: unknown) => {
      assert.ok(e instanceof FileWriteError);
      assert.equal(e.message, `cannot write ${target}: its folder does not exist (ENOENT)`);
      assert.equal(e.code, 'ENOENT');
      assert.equal(e.file, target);
      return true;
    });
  });

  it('a full disk (a 64 KiB tmpfs): ENOSPC names the file, and nothing is left behind', (t) => {
    const dir = tempDir();
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { encoding: 'utf8' });
    if (mounted.status !== 0) return t.skip(`cannot mount a tmpfs here (needs root): ${mounted.stderr.trim()}`);
    try {
      const target = join(dir, 'model.pt');
      assert.throws(() => scope(() => savePt(target, { w: zeros([64, 1024]) })), (e: unknown) => {
        assert.ok(e instanceof FileWriteError);
        assert.equal(e.message, `cannot write ${target}: no space left on the device (ENOSPC)`);
        return true;
      });
      assert.deepEqual(readdirSync(dir), [], 'the temporary file is removed');
    } finally {
      spawnSync('umount', [dir]);
    }
  });
});

describe('saveStateDict / loadStateDictFile', () => {
  it('choose the format by extension and move a module\'s weights both ways', () => {
    const dir = tempDir();
    const source = new nn.Linear(4, 3);
    for (const name of ['w.safetensors', 'w.pt', 'w.pth', 'w.bin', 'w.ckpt']) {
      const p = join(dir, name);
      saveStateDict(p, source, name === 'w.ckpt' ? { format: 'pt' } : {});
      const target = new nn.Linear(4, 3);
      scope(() => target.loadStateDict(loadStateDictFile(p, name === 'w.ckpt' ? { format: 'pt' } : {})));
      for (const [k, t] of source.stateDict()) assert.equal(hex(target.stateDict().get(k)!), hex(t), `${name} ${k}`);
      target.dispose();
    }
    // The safetensors file is a safetensors file, the .pt files zip archives.
    assert.equal(readFileSync(join(dir, 'w.safetensors')).readBigUInt64LE(0) % 8n, 0n);
    assert.equal(readFileSync(join(dir, 'w.bin')).subarray(0, 2).toString(), 'PK');
    source.dispose();
  });

  it('refuse what they cannot tell or do, clearly', () => {
    assert.equal(weightsFormatOf('a/b/model.SAFETENSORS'), 'safetensors');
    assert.equal(weightsFormatOf('pytorch_model.bin'), 'pt');
    assertRefused(() => weightsFormatOf('model.ckpt'), /cannot tell the weights format from the extension/);
    assertRefused(() => weightsFormatOf('safetensors'), /cannot tell/);
    assertRefused(() => saveStateDict('/tmp/x.pt', new Map(), { metadata: { a: 'b' } }), /metadata can only be stored in safetensors/);
    assertRefused(() => loadStateDictFile('/tmp/x.safetensors', { select: 'model' }), /select applies to .pt checkpoints only/);
    const dir = tempDir();
    assertRefused(() => loadStateDictFile(dir, { format: 'safetensors' }), /not a regular file/);
    assert.throws(() => loadStateDictFile(join(dir, 'none.pt')), /ENOENT/);
    assert.ok(new WeightsFileError('f', 'p') instanceof Error);
  });
});
