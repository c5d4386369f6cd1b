// Reconstruction: an autoencoder learns to give back its input. Targets are the input images in
// [0, 1] (after crop and flip, before normalisation: targets.ts); the model is a 'reconstruct' zoo
// model. Loss (train.loss): mse (default) or bce (sigmoid outputs only). The denoising variant adds
// its noise to the input in training (the model does: models/autoencoder.ts); the test pass
// measures both the error on clean inputs and, for a denoising model, on inputs corrupted the same
// way. The report shows the worst reconstructions as input / noisy input / output; `tessera eval`
// prints the mean error; `tessera predict` writes each reconstruction as a PNG.
import { ConfigError } from '../../config/load.js';
import { MeanSquaredError } from '../../metrics/reconstruction.js';
import type { ReconstructionSection, SampleStrip } from '../../report/types.js';
import { binaryCrossEntropy, mseLoss, randnLike } from '../../tensor/generated/ops.js';
import { scope } from '../../tensor/memory.js';
import { getRngState, manualSeed, setRngState } from '../../tensor/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { RawImage } from '../../data/types.js';
import { inference } from '../../train/inference.js';
import { inputImages, OutputNames, pngBase64, unitImages, Worst, writePng } from './images.js';
import { csvCell, lossOf, type Losses, type Task, type TestOutput } from './task.js';

/** The std of the noise the model was trained with (ConvAutoencoder.noise; 0 for a plain autoencoder). */
const noiseOf = (model: object): number => ('noise' in model && typeof model.noise === 'number' ? model.noise : 0);

const psnr = (mse: number | null) => (mse === null || mse <= 0 ? null : 10 * Math.log10(1 / mse));

export const reconstruct: Task = {
  name: 'reconstruct',
  modelTask: 'reconstruct',
  targets: 'image',
  autoModel: (image) => ({ name: 'conv-autoencoder', why: `reconstruction of ${image.channels}×${image.height}×${image.width} images` }),
  monitor: { key: 'val_loss', mode: 'min' },

  settings(config) {
    if (config.threshold !== undefined) throw new ConfigError('threshold (--threshold) is for multi-label classification (task multilabel)');
    const loss = config.train.loss;
    if (loss !== undefined && loss !== 'mse' && loss !== 'bce') throw new ConfigError(`train.loss (--loss) ${loss} does not apply to reconstruction: use mse or bce`);
    if (loss === 'bce' && config.model.options?.output === 'linear') throw new ConfigError("train.loss bce needs outputs in [0, 1]: the autoencoder's model.options.output must be sigmoid (the default), not linear");
    if (config.train.classWeights !== 'none' || config.train.sampler === 'weighted') throw new ConfigError('train.classWeights and train.sampler weigh classes; reconstruction uses no labels: leave them at none and random');
    return {};
  },

  losses(config): Losses {
    const kind = config.train.loss ?? 'mse';
    // In float32 under bf16 autocast: binary_cross_entropy takes no mixed dtypes (PyTorch's autocast lists it as unsafe).
    const fn = kind === 'bce' ? (out: Tensor, y: Tensor) => binaryCrossEntropy(out.float(), y.float()) : (out: Tensor, y: Tensor) => mseLoss(out.float(), y.float());
    const notes = [`loss: ${kind} between the output and the input image (in [0, 1])`];
    if (config.train.labelSmoothing > 0) notes.push(`train.labelSmoothing (${config.train.labelSmoothing}) does not apply to reconstruction`);
    return { loss: fn, evalLoss: fn, notes };
  },

  metrics: () => [new MeanSquaredError()],

  async test(i): Promise<TestOutput> {
    const noise = noiseOf(i.model);
    const clean = new MeanSquaredError();
    const noisy = new MeanSquaredError();
    const worst = new Worst<{ id: string; images: RawImage[] }>(i.gallery);
    let [lossSum, images] = [0, 0];
    // The test noise comes from a generator seeded here (the caller's is restored after), so the
    // denoising error is the same each time a model is tested: `tessera eval` repeats the run's.
    const callerRng = noise > 0 ? getRngState() : undefined;
    if (callerRng) manualSeed(0);
    try {
      await inference(i.model, i.source, (output, batch) => {
        clean.update(output, batch.y);
        const n = output.shape[0] as number;
        lossSum += (lossOf(i.evalLoss, output, batch.y).item() as number) * n;
        images += n;
        // The denoising model's own task: the input corrupted as in training, the clean image as target.
        const corrupted = noise > 0 ? batch.x.add(randnLike(batch.x).mul(noise)) : undefined;
        const denoised = corrupted ? i.model.forward(corrupted) : undefined;
        if (denoised) noisy.update(denoised, batch.y);
        if (i.gallery === 0) return;
        const errors = scope(() => output.sub(batch.y).square().flatten(1).mean([1]).cpu().data() as Float32Array);
        let strips: RawImage[][] | undefined;
        for (let s = 0; s < n; s++) {
          const error = errors[s] as number;
          if (!worst.wants(-error)) continue;
          strips ??= columns(batch.x, output, corrupted, denoised, i);
          worst.offer(-error, () => ({ id: batch.ids[s] ?? `sample ${batch.indices[s]}`, images: strips!.map((col) => col[s] as RawImage) }));
        }
      }, i.precision === undefined ? {} : { precision: i.precision });
    } finally {
      if (callerRng) {
        setRngState(callerRng);
        callerRng.dispose();
      }
    }
    const captions = noise > 0 ? ['input', 'output', `noisy input (σ ${noise})`, 'output of the noisy input'] : ['input', 'output'];
    const strips: SampleStrip[] = [];
    for (const { score, item } of worst.items)
      strips.push({ id: item.id, label: `error ${(-score).toFixed(4)}`, images: await Promise.all(item.images.map(async (im, k) => ({ caption: captions[k] as string, pngBase64: await pngBase64(im) }))) });
    const finite = (v: number) => (Number.isFinite(v) ? v : null);
    const mse = finite(clean.compute());
    const section: ReconstructionSection = { images, mse, psnr: psnr(mse), loss: images > 0 ? lossSum / images : null, noise, worst: strips };
    const denoised = noise > 0 ? finite(noisy.compute()) : null;
    const tail = denoised === null ? '' : `; inputs with noise σ ${noise}: error ${denoised.toFixed(5)}`;
    return {
      metrics: { test_mse: mse, test_psnr: section.psnr, test_loss: section.loss, test_samples: images, ...(noise > 0 ? { test_denoised_mse: denoised } : {}) },
      report: { reconstruction: section },
      line: `test: reconstruction error (MSE) ${mse?.toFixed(5) ?? 'n/a'}, PSNR ${section.psnr?.toFixed(2) ?? 'n/a'} dB, loss ${section.loss?.toFixed(4) ?? 'n/a'} (${images} images)${tail}`,
      text: `${images} images: mean reconstruction error (MSE, pixels in [0, 1]) ${mse?.toFixed(5) ?? 'n/a'}, PSNR ${section.psnr?.toFixed(2) ?? 'n/a'} dB, loss ${section.loss?.toFixed(4) ?? 'n/a'}${tail}`,
      json: { ...section, worst: undefined, ...(noise > 0 ? { denoisedMse: denoised } : {}) },
      headline: `test reconstruction error ${mse?.toFixed(5) ?? 'n/a'}`,
    };
  },

  predictor(_model, preprocessing, _settings, options) {
    const names = options.outputDir === undefined ? undefined : new OutputNames(options.outputDir);
    return {
      async batch(output, items, input) {
        const outputs = unitImages(output);
        const inputs = inputImages(input, preprocessing);
        const rows = [];
        for (const [s, item] of items.entries()) {
          const a = outputs[s] as RawImage;
          const b = inputs[s] as RawImage;
          let sum = 0;
          for (let p = 0; p < a.data.length; p++) sum += (((a.data[p] as number) - (b.data[p] as number)) / 255) ** 2;
          const row: Record<string, unknown> & { file: string } = { file: item.file, mse: sum / a.data.length };
          if (names) {
            const [path] = names.next(item.file, ['.png']) as [string];
            await writePng(path, a);
            row.reconstruction = path;
          }
          rows.push(row);
        }
        return rows;
      },
      csv(rows) {
        const lines = rows.map((r) => [csvCell(r.file), csvCell(String(r.reconstruction ?? '')), typeof r.mse === 'number' ? r.mse.toFixed(6) : '', r.error ? csvCell(r.error) : ''].join(','));
        return `${['file,reconstruction,mse,error', ...lines].join('\n')}\n`;
      },
    };
  },
};

/** The strip's columns for a batch: input, output, and for a denoising model the noisy input and its output. */
function columns(x: Tensor, output: Tensor, corrupted: Tensor | undefined, denoised: Tensor | undefined, i: { preprocessing: Parameters<typeof inputImages>[1] }): RawImage[][] {
  const cols = [inputImages(x, i.preprocessing), unitImages(output)];
  if (corrupted && denoised) cols.push(inputImages(corrupted, i.preprocessing), unitImages(denoised));
  return cols;
}
