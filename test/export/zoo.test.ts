// Every zoo model exports: its ONNX file passes ONNX's checker (with strict shape inference), and
// ONNX Runtime's outputs equal Tessera's eval outputs (rtol 1e-3, atol 1e-5) at batch 1 and 7 from
// one trace at batch 2, with every batch norm folded into its convolution. Batch-norm statistics
// are randomised first, so the folding is tested on numbers that matter.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { manualSeed, models, nn, randn, setNumThreads } from '../../src/index.js';
import { exportOnnx } from '../../src/export/index.js';
import { assertMatchesModel, assertOnnxChecks, randomizeNorms } from './helpers.js';

setNumThreads(1);
const dir = mkdtempSync(join(tmpdir(), 'tessera-onnx-zoo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Small inputs: models designed for 224×224 run at 32×32 (ResNets then take their small stem). */
const sizeFor = (info: models.ModelInfo) => (info.input[1] > 64 ? 32 : info.input[1]);

/**
 * The example input (without the batch axis) and the expected output shape of a zoo model at this
 * size: images for classifiers, segmenters and autoencoders; the noise vector for a GAN (its forward
 * is the generator's), whose image size is the registry's own.
 */
function shapesFor(info: models.ModelInfo): { size: number; input: number[]; output: number[] } {
  if (info.task === 'generate') return { size: info.output[1] as number, input: [...info.input], output: [...info.output] };
  const size = sizeFor(info);
  const input = [info.input[0] as number, size, size];
  const output = info.task === 'classify' ? [10] : info.task === 'segment' ? [10, size, size] : input;
  return { size, input, output };
}

describe('ONNX export of the zoo', () => {
  const written: string[] = [];

  for (const info of models.listModels()) {
    it(`${info.name}: ONNX Runtime matches Tessera at batch 1 and 7`, async () => {
      manualSeed(1);
      const { size, input, output } = shapesFor(info);
      const model = models.createModel(info.name, { classes: 10, imageSize: size });
      try {
        randomizeNorms(model);
        const shape = (batch: number) => [batch, ...input];
        const result = exportOnnx(model, randn(shape(2)), info.task === 'classify' ? { classes: Array.from({ length: 10 }, (_, i) => `class ${i}`) } : {});
        // A GAN holds its discriminator too, which the generator's forward never reaches.
        const reached = info.task === 'generate' ? (model as models.Gan).generator : model;
        const batchNorms = [...reached.modules()].filter((m) => m instanceof nn.BatchNorm2d).length;
        assert.equal(result.foldedBatchNorms, batchNorms, 'every batch norm follows a convolution and is folded into it');
        assert.deepEqual(result.outputs.map((o) => [o.name, o.shape.slice(1), o.batchAxis]), [['output', output, 0]]);
        await assertMatchesModel(info.name, model, result.bytes, [[randn(shape(1))], [randn(shape(7))]]);
        const path = join(dir, `${info.name}.onnx`);
        writeFileSync(path, result.bytes);
        written.push(path);
      } finally {
        model.dispose();
      }
    });
  }

  it('every file passes the ONNX checker', () => {
    assert.equal(written.length, models.listModels().length, 'every model was exported');
    assertOnnxChecks(written);
  });
});
