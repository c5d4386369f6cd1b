import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { fitToMachine, LIMITS, ResourceLimitError } from '../../src/config/limits.js';
import { ConfigError, resolveConfig, setPath, type Override } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));

test('no file and no flags gives the main job: Fashion-MNIST with the default model', () => {
  const c = resolveConfig();
  assert.equal(c.data.source, 'fashion-mnist');
  assert.equal(c.model.name, 'auto', 'the model is chosen from the data: fashion-net for Fashion-MNIST (test/run/defaults.test.ts)');
  assert.ok(c.train.epochs > 0 && c.train.batchSize > 0);
  assert.equal(c.train.optimizer.name, 'sgd');
});

test('YAML file, then flag overrides, then defaults', () => {
  const file = join(dir, 'run.yaml');
  writeFileSync(file, 'name: cats\ntrain:\n  epochs: 3\n  optimizer:\n    name: adam\n    lr: 0.001\n');
  const c = resolveConfig({ file, overrides: [['train.epochs', '5'], ['data.source', '/data/cats']] });
  assert.equal(c.name, 'cats');
  assert.equal(c.train.epochs, 5);
  assert.equal(c.train.optimizer.name, 'adam');
  assert.equal(c.train.optimizer.lr, 0.001);
  assert.equal(c.train.optimizer.momentum, 0.9, 'unset fields keep their defaults');
  assert.equal(c.data.source, '/data/cats');
});

test('a bad value is named by its path', () => {
  assert.throws(() => resolveConfig({ overrides: [['train.optimizer.lr', '-1']] }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /^options has a problem:\ntrain\.optimizer\.lr: /);
    return true;
  });
});

test('an unknown field (a typo) is an error naming it, not silently ignored', () => {
  const file = join(dir, 'typo.json');
  writeFileSync(file, JSON.stringify({ train: { epoch: 3 } }));
  assert.throws(() => resolveConfig({ file }), /typo\.json has a problem:\ntrain: unknown field 'epoch'/);
});

test('several problems are all listed', () => {
  assert.throws(
    () => resolveConfig({ overrides: [['train.batchSize', '0'], ['data.badFiles', 'ignore']] }),
    (e: unknown) => (e as Error).message.split('\n').length === 3,
  );
});

test('unreadable or malformed files give one sentence naming the file', () => {
  assert.throws(() => resolveConfig({ file: join(dir, 'missing.yaml') }), /cannot read config .*missing\.yaml: ENOENT/);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{ "train": ');
  assert.throws(() => resolveConfig({ file: bad }), /config .*bad\.json is not valid/);
  const txt = join(dir, 'conf.txt');
  writeFileSync(txt, 'x');
  assert.throws(() => resolveConfig({ file: txt }), /use a \.json, \.yaml or \.yml file/);
  const list = join(dir, 'list.yaml');
  writeFileSync(list, '- 1\n- 2\n');
  assert.throws(() => resolveConfig({ file: list }), /must hold an object/);
});

test('setPath parses JSON values, keeps other strings, and refuses prototype keys', () => {
  const o: Record<string, unknown> = {};
  setPath(o, 'a.b', '[1,2]');
  setPath(o, 'a.c', 'true');
  setPath(o, 'a.d', 'hello');
  assert.deepEqual(o, { a: { b: [1, 2], c: true, d: 'hello' } });
  assert.throws(() => setPath(o, '__proto__.x', '1'), /bad config key/);
  assert.throws(() => setPath(o, 'a.d.e', '1'), /'d' is not an object/);
});

test('every field that can exhaust the machine has an upper bound, and the message says why', () => {
  const cases: [string, string, RegExp][] = [
    ['data.imageSize', '[100000,100000]', /data\.imageSize\.0: at most 4,096 \(pixels per side/],
    ['train.threads', '100000', /train\.threads: at most 1,024/],
    ['data.workers', '100000', /data\.workers: at most 256/],
    ['train.batchSize', '1000000000', /train\.batchSize: at most 65,536/],
    ['train.epochs', '1000000000', /train\.epochs: at most 100,000/],
    ['train.gradAccumulation', '1000000', /train\.gradAccumulation: at most 4,096/],
    ['checkpoint.keep', '100000', /checkpoint\.keep: at most 100/],
    ['gallery', '1000000', /gallery: at most 1000/],
  ];
  for (const [path, value, re] of cases) assert.throws(() => resolveConfig({ overrides: [[path, value]] }), re, path);
  // The limits themselves are allowed.
  const c = resolveConfig({ overrides: [['data.imageSize', `[${LIMITS.imageSide},${LIMITS.imageSide}]`], ['train.threads', String(LIMITS.threads)], ['train.batchSize', String(LIMITS.batchSize)]] });
  assert.equal(c.train.batchSize, LIMITS.batchSize);
});

test('a problem in a value a flag set names the flag as typed, once', () => {
  const overrides: Override[] = [['data.imageSize', '[100000,100000]', '--image-size 100000'], ['train.epochs', '"many"', '--epochs many'], ['train.seed', '-1']];
  assert.throws(() => resolveConfig({ overrides }), (e: unknown) => {
    const lines = (e as Error).message.split('\n');
    assert.equal(lines[0], 'options have problems:');
    assert.match(lines[1]!, /^--image-size 100000 → data\.imageSize: at most 4,096/);
    assert.match(lines[2]!, /^--epochs many → train\.epochs: /);
    assert.match(lines[3]!, /^train\.seed: /, 'a field no flag set is named by its path alone');
    assert.equal(lines.length, 4, 'both sides of the image size are one mistake');
    return true;
  });
  // A later override without a flag (a config set in code) takes the field back from the flag.
  assert.throws(() => resolveConfig({ overrides: [['train.epochs', '0', '--epochs 0'], ['train.epochs', '-3']] }), /\ntrain\.epochs: /);
});

test('fitToMachine lowers threads and workers to the cores, with a warning naming the flag', () => {
  const machine = { cores: 4, memoryBytes: 16e9 };
  const warnings: string[] = [];
  const c = fitToMachine(resolveConfig({ overrides: [['train.threads', '64'], ['data.workers', '32']] }), (l) => warnings.push(l), machine);
  assert.equal(c.train.threads, 4);
  assert.equal(c.data.workers, 4);
  assert.deepEqual(warnings, [
    'train.threads (--threads) is 64, more than the 4 cores here: using 4',
    'data.workers (--workers) is 32, more than the 4 cores here: using 4',
  ]);
  const same = fitToMachine(resolveConfig({ overrides: [['train.threads', '2']] }), (l) => warnings.push(l), machine);
  assert.equal(same.train.threads, 2);
  assert.equal(same.data.workers, 0);
  assert.equal(warnings.length, 2);
});

test('fitToMachine refuses a batch of inputs larger than a quarter of the memory, naming both flags', () => {
  const machine = { cores: 2, memoryBytes: 8e9 };
  const config = resolveConfig({ overrides: [['data.imageSize', '[2048,2048]'], ['train.batchSize', '64']] });
  assert.throws(() => fitToMachine(config, () => {}, machine), (e: unknown) => {
    assert.ok(e instanceof ResourceLimitError);
    assert.match(e.message, /train\.batchSize \(--batch-size\) 64 × data\.imageSize \(--image-size\) 2048×2048 × 3 channels needs 3\.2 GB for one batch of inputs, more than a quarter of this machine's 8\.0 GB/);
    return true;
  });
  const grey = resolveConfig({ overrides: [['data.imageSize', '[2048,2048]'], ['train.batchSize', '64'], ['data.channels', '1']] });
  assert.equal(fitToMachine(grey, () => {}, machine).train.batchSize, 64, 'one channel: 1.07 GB fits');
});
