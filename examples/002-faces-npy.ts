// Seed article 002 (/work/shared/seeds/002_*.txt): face classification from NumPy arrays.
// Section 5.2's program: load_data (np.load faces.npy + labels.npy, shuffle, 80/20 split, one-hot
// labels, 5 classes) → build_model (Conv2D 32/64/128 with pools, Dense 128, Dense 5 on 64×64×3)
// → compile(adam, categorical_crossentropy, accuracy) → fit(epochs=10, batch_size=32,
// validation_data=test) → evaluate → print(f"Test Loss: {loss:.4f}, Test Accuracy: {accuracy:.4f}").
// Its preprocessing is sections 3.2.1 and 4.3.2's: resize every image to one size, then random crop
// and flip (data augmentation, training images only).
//
//   node dist/examples/002-faces-npy.js [dir with faces.npy and labels.npy] [--epochs 10] [--limit N]
//
// faces.npy: N×H×W×3 (or N×3×H×W) colour images, uint8 0..255 or float; labels.npy: N class
// indices 0..4. The article loads both from the working directory, our default; FACES_DIR or the
// first argument may name another folder.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { metrics, models, nn, optim, train, data, type Tensor } from 'tessera';
import { exampleArgs, fail, runExample } from './cli.js';

const { npyDataset, DataLoader, RandomStream, subset } = data;
const { compose, centerCrop, horizontalFlip, randomCrop, resize } = data.transforms;
type BatchTransform = data.transforms.batch.BatchTransform;

const NAME = '002-faces-npy';
const args = exampleArgs({
  name: NAME,
  usage: 'node dist/examples/002-faces-npy.js [dir with faces.npy and labels.npy] [options]',
  env: 'FACES_DIR',
  defaultData: '.',
  epochs: 10, // model.fit(..., epochs=10, batch_size=32, ...)
  batchSize: 32,
});

const CLASSES = ['0', '1', '2', '3', '4']; // to_categorical(y, num_classes=5) and Dense(5)
const SIDE = 64; // input_shape=(64, 64, 3)
// Section 4.3.2 resizes then crops the centre (img[16:48, 16:48]); applied to its own 32×32 resize
// that crop would keep only 16×16, so we keep its order — resize, crop, flip — at the model's size:
// resize to 72×72 (ignoring the aspect ratio, as cv2.resize does), then crop 64×64 out of it.
const RESIZED = 72;

// The article feeds np.load's values as they are (no /255): we cast the uint8 pixels to float and
// keep 0..255. (npyDataset stores every image as 8-bit pixels, so a float faces.npy in [0, 1] is
// fed as 0..255 too, where Keras would have seen 0..1.)
const rawPixels: BatchTransform = ({ x, y }) => ({ x: x.to('float32'), y });

runExample(NAME, async () => {
  const dir = args.data as string;
  for (const f of ['faces.npy', 'labels.npy'])
    if (!existsSync(join(dir, f))) fail(NAME, `no ${f} in ${dir} (the program reads faces.npy and labels.npy from this folder)`);

  // images = np.load('faces.npy'); labels = np.load('labels.npy')
  const faces = npyDataset({ images: join(dir, 'faces.npy'), labels: join(dir, 'labels.npy'), classes: CLASSES });
  if (faces.length < 2) fail(NAME, `${join(dir, 'faces.npy')} holds ${faces.length} image(s); an 80/20 split needs at least 2`);
  const first = (await faces.read(0)).input;
  if (first.kind === 'pixels' && first.image.channels !== 3)
    fail(NAME, `${join(dir, 'faces.npy')} holds grey images (N×H×W); the model takes colour images, N×H×W×3`);
  const unlabelled = faces.labels().indexOf(-1);
  if (unlabelled >= 0) fail(NAME, `${join(dir, 'labels.npy')}[${unlabelled}] is -1; every face needs a class 0..4`);

  // indices = np.arange(N); np.random.shuffle(indices); train_size = int(0.8 * N)
  // x_train = images[:train_size] …; x_test = images[train_size:] …
  const order = new RandomStream({ seed: args.seed, purpose: 'split' }).permutation(faces.length);
  const trainSize = Math.floor(0.8 * faces.length);
  const trainIdx = order.subarray(0, args.limit === undefined ? trainSize : Math.min(trainSize, args.limit)); // --limit: the first N
  const testIdx = order.subarray(trainSize, args.testLimit === undefined ? undefined : trainSize + args.testLimit);
  const trainSet = subset(faces, trainIdx);
  const testSet = subset(faces, testIdx);
  console.log(`data: ${faces.describe()}; train ${trainSet.length}, test ${testSet.length}`);

  // y_train = to_categorical(y_train, num_classes=5): one-hot targets for categorical_crossentropy.
  // Cross-entropy against integer class indices is the same loss, so the labels stay integers.

  // Preprocessing (3.2.1 / 4.3.2): resize, then for training a random 64×64 crop and a left-right
  // flip with probability 1/2 (cv2.flip(img, 1)); test images are resized and centre-cropped.
  const trainPipeline = compose({ transforms: [resize({ size: [RESIZED, RESIZED] }), randomCrop({ size: SIDE }), horizontalFlip({ p: 0.5 })] });
  const testPipeline = compose({ transforms: [resize({ size: [RESIZED, RESIZED] }), centerCrop({ size: SIDE })] });
  // Keras' fit shuffles the training data every epoch (shuffle=True by default).
  const trainLoader = new DataLoader(trainSet, { batchSize: args.batchSize, shuffle: true, seed: args.seed, pipeline: trainPipeline, batchTransforms: [rawPixels] });
  const testLoader = new DataLoader(testSet, { batchSize: args.batchSize, pipeline: testPipeline, batchTransforms: [rawPixels] });

  // model = build_model(): Conv2D 32 → pool → Conv2D 64 → pool → Conv2D 128 → pool → Dense 128 → Dense 5.
  // Keras is channels-last (N, 64, 64, 3); we take (N, 3, 64, 64). Dense(5, softmax) → 5 logits.
  const model = models.seedFacesCnn({ numClasses: CLASSES.length, imageSize: SIDE });
  console.log(`model: seedFacesCnn, ${model.numParameters().toLocaleString('en-US')} parameters`);

  // model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy']):
  // Keras' Adam (lr 0.001, epsilon 1e-7); softmax + categorical cross-entropy = cross-entropy on logits.
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.001, betas: [0.9, 0.999], eps: 1e-7 });
  const loss = (logits: Tensor, labels: Tensor) => nn.functional.crossEntropy(logits, labels);
  const learner = new train.Learner({ model, loss, metrics: [metrics.createMetric('accuracy', CLASSES.length)] }); // the compiled model

  // model.fit(x_train, y_train, epochs=10, batch_size=32, validation_data=(x_test, y_test))
  await learner.fit({
    train: trainLoader, val: testLoader, epochs: args.epochs, optimizer, seed: args.seed,
    callbacks: [new train.callbacks.Progress({ stream: process.stdout })],
  });

  // loss, accuracy = model.evaluate(x_test, y_test)
  const result = await learner.evaluate(testLoader);
  const accuracy = result.metrics['accuracy'] as number;
  // print(f"Test Loss: {loss:.4f}, Test Accuracy: {accuracy:.4f}")
  console.log(`Test Loss: ${result.loss.toFixed(4)}, Test Accuracy: ${accuracy.toFixed(4)}`);
});
