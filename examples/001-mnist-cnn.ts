// Seed article 001 (/work/shared/seeds/001_*.txt, section 5): three Keras models —
//   create_cnn((28, 28, 1)): Conv2D 32, MaxPool, Conv2D 64, MaxPool, Conv2D 128, MaxPool, Flatten,
//                            Dense 128, Dense 10 (softmax)
//   create_fcn():            Dense 128, Dense 10 (softmax)
//   create_gan():            a generator Dense(128) → Reshape((4, 4, 3)) and a CNN discriminator.
// The article only builds them: it never compiles, trains or evaluates anything, and names no data.
// We build the two classifiers as it does and then train one (the CNN by default, `--model fcn`
// for the other) on 28×28×1 digits the way the series' other Keras programs do (000, 003):
// compile(adam, sparse_categorical_crossentropy, accuracy), fit(epochs=10), evaluate, print.
//
// The GAN cannot run as written: Reshape((4, 4, 3)) needs 48 values and the generator's Dense(128)
// gives 128, so Keras rejects the model when it is built, and its discriminator would shrink a 4×4
// input below 1×1 after the first pooling. `models.seedGan()` is the pair with the two smallest
// changes that make it run (src/models/gan-seed.ts says which and why); like the article, we build
// it (and pass one batch of noise through it) but do not train it.
//
//   node dist/examples/001-mnist-cnn.js [fashion-mnist dir] [--model cnn|fcn] [--epochs 10] [--limit N]
//
// Data: MNIST is what a 28×28×1 input means, but MNIST is not installed on these machines and cannot
// be downloaded. Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist, the default)
// has MNIST's file format (IDX, gzip), shapes (60,000 + 10,000 grey 28×28) and ten classes, so an
// MNIST folder with the same file names (train-images-idx3-ubyte.gz, …) works unchanged.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { metrics, models, nn, optim, scope, train, data, type Tensor } from 'tessera';
import { exampleArgs, fail, pyFloat, runExample } from './cli.js';

const { FASHION_MNIST_DIR, loadFashionMnist, DataLoader, tensorDataset } = data;
type LabelledImages = data.LabelledImages;

const NAME = '001-mnist-cnn';
const args = exampleArgs({
  name: NAME,
  usage: 'node dist/examples/001-mnist-cnn.js [fashion-mnist dir] [--model cnn|fcn] [options]',
  env: 'TESSERA_FASHION_MNIST',
  defaultData: FASHION_MNIST_DIR,
  epochs: 10,
  batchSize: 32, // Keras' default batch_size
  extra: ['model'],
});

const TEN = Array.from({ length: 10 }, (_, i) => String(i)); // Dense(10): labels 0..9

/** A split as an in-memory data set of 28×28 grey images (the first `limit` samples when given). */
function digits(split: 'train' | 'test', dir: string, limit?: number) {
  const prefix = split === 'train' ? 'train' : 't10k';
  const missing = [`${prefix}-images-idx3-ubyte.gz`, `${prefix}-labels-idx1-ubyte.gz`].filter((f) => !existsSync(join(dir, f)));
  if (missing.length) fail(NAME, `${dir} has no ${missing.join(' or ')} (the MNIST file layout that Debian's dataset-fashion-mnist installs)`);
  const d: LabelledImages = loadFashionMnist(split, dir);
  if (d.height !== 28 || d.width !== 28) fail(NAME, `${dir}: ${split} images are ${d.height}×${d.width}; create_cnn((28, 28, 1)) needs 28×28`);
  const n = limit === undefined ? d.count : Math.min(limit, d.count);
  return tensorDataset(d.images.subarray(0, n * 28 * 28), d.labels.subarray(0, n), { shape: [n, 28, 28], classes: TEN, name: `${split} ${dir}` });
}

runExample(NAME, async () => {
  const which = args.options['model'] ?? 'cnn';
  if (which !== 'cnn' && which !== 'fcn') fail(NAME, `--model must be 'cnn' or 'fcn', got '${which}'`);
  const dir = args.data as string;

  // cnn = create_cnn((28, 28, 1)); fcn = create_fcn(). Keras is channels-last, (N, 28, 28, 1); we
  // take (N, 1, 28, 28). Both end in Dense(10, softmax) in Keras; ours return logits (see below).
  // create_fcn has no input_shape: Keras infers 784 inputs when it first sees a flattened image.
  const cnn = models.seedMnistCnn();
  const fcn = models.seedMnistFcn({ inputs: 28 * 28 });
  // gan = create_gan(): the generator's 4×4×3 images, judged by the discriminator (see the top of this file).
  const gan = models.seedGan();
  const judged = scope(() => gan.discriminator.forward(gan.forward(gan.noise(4))).shape);
  console.log(`gan: create_gan() made to run, ${gan.numParameters().toLocaleString('en-US')} parameters; D(G(z)) for 4 noise vectors has shape [${judged.join(', ')}]`);
  gan.dispose();
  const model = which === 'cnn' ? cnn : fcn;
  console.log(`model: ${which === 'cnn' ? 'create_cnn((28, 28, 1))' : 'create_fcn()'}, ${model.numParameters().toLocaleString('en-US')} parameters`);

  // Beyond the article: data and training. The article's step 1 is "尺寸缩放、归一化" (resize,
  // normalise): the images are 28×28 already, and the loader's default batch transform scales the
  // uint8 pixels to [0, 1] (÷255).
  const trainSet = digits('train', dir, args.limit);
  const testSet = digits('test', dir, args.testLimit);
  console.log(`data: ${trainSet.describe()}; test: ${testSet.describe()}`);
  const trainLoader = new DataLoader(trainSet, { batchSize: args.batchSize, shuffle: true, seed: args.seed });
  const testLoader = new DataLoader(testSet, { batchSize: args.batchSize });

  // model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy']):
  // Keras' Adam (lr 0.001, epsilon 1e-7); softmax + sparse cross-entropy = cross-entropy on logits.
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.001, betas: [0.9, 0.999], eps: 1e-7 });
  const loss = (logits: Tensor, labels: Tensor) => nn.functional.crossEntropy(logits, labels);
  const learner = new train.Learner({ model, loss, metrics: [metrics.createMetric('accuracy', 10)] }); // the compiled model

  // model.fit(x_train, y_train, epochs=10)
  await learner.fit({
    train: trainLoader, epochs: args.epochs, optimizer, seed: args.seed,
    callbacks: [new train.callbacks.Progress({ stream: process.stdout })],
  });

  // test_loss, test_acc = model.evaluate(x_test, y_test); print('Test accuracy:', test_acc)
  const result = await learner.evaluate(testLoader);
  const testAcc = result.metrics['accuracy'] as number;
  console.log(`evaluate: loss ${result.loss.toFixed(4)} - accuracy ${testAcc.toFixed(4)}`);
  console.log(`Test accuracy: ${pyFloat(testAcc)}`);
});
