import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { ConfigError, resolveConfig, setPath } from '../../src/config/load.js';

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
