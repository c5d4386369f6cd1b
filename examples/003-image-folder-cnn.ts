// Seed article 003 (/work/shared/seeds/003_*.txt, section 5.2): a Keras CNN on 64×64 images read
// from a folder — Sequential(Conv2D 32, MaxPool, Conv2D 64, MaxPool, Conv2D 64, Flatten, Dense 64,
// Dense 10) → compile(adam, sparse_categorical_crossentropy, accuracy) →
// image_dataset_from_directory('path/to/imagenet') → fit(epochs=10) → evaluate → print.
//
//   node dist/examples/003-image-folder-cnn.js <image folder> [--test <folder>] [--epochs 10] [--limit N]
//
// The folder has one sub-folder per class (torchvision ImageFolder / Keras inferred labels); IMAGES_DIR
// may name it instead. Test images come from --test when given, else 20% of the folder is held out.
//
// As written the article's loading line cannot run: image_dataset_from_directory returns one
// tf.data.Dataset of (images, labels) batches, not ((x_train, y_train), (x_test, y_test)). What it
// evidently means is image_dataset_from_directory(dir, validation_split=0.2, subset='both',
// image_size=(64, 64)): a training and a held-out set, labels from the sorted sub-folder names
// (label_mode 'int', what sparse_categorical_crossentropy takes), images resized to the model's
// 64×64 with bilinear interpolation, ignoring the aspect ratio, batches of 32, shuffled. That is
// what we do.
import { metrics, models, nn, optim, train, data, type Tensor } from 'tessera';
import { exampleArgs, fail, firstIndices, pyFloat, runExample } from './cli.js';

const { imageFolder, DataLoader, RandomStream, subset } = data;
const { compose, resize } = data.transforms;
type BatchTransform = data.transforms.batch.BatchTransform;
type IndexedDataset = data.IndexedDataset;

const NAME = '003-image-folder-cnn';
const args = exampleArgs({
  name: NAME,
  usage: 'node dist/examples/003-image-folder-cnn.js <image folder> [--test <folder>] [options]',
  env: 'IMAGES_DIR',
  epochs: 10, // model.fit(x_train, y_train, epochs=10)
  batchSize: 32, // image_dataset_from_directory's batch_size default
  extra: ['test'],
});

const SIDE = 64; // input_shape=(64, 64, 3)

// image_dataset_from_directory yields float32 pixels 0..255 and the model has no Rescaling layer,
// so the network sees 0..255: we cast the uint8 batch to float without dividing by 255.
const rawPixels: BatchTransform = ({ x, y }) => ({ x: x.to('float32'), y });

runExample(NAME, async () => {
  if (args.data === undefined) fail(NAME, 'give the image folder (one sub-folder per class) as the first argument or in IMAGES_DIR');

  // image_dataset_from_directory(dir, validation_split=0.2, subset='both', seed=…): Keras lists the
  // files, shuffles the list with the seed, and holds out its last int(0.2 × N) files.
  const all = await imageFolder(args.data);
  for (const w of all.warnings) console.warn(`warning: ${w}`);
  const order = new RandomStream({ seed: args.seed, purpose: 'split' }).permutation(all.length);
  let trainIdx: Int32Array;
  let testSet: IndexedDataset;
  const testDir = args.options['test'];
  if (testDir !== undefined) {
    const test = await imageFolder(testDir);
    if (test.classes.join('/') !== all.classes.join('/'))
      fail(NAME, `${testDir} has classes [${test.classes.join(', ')}] but ${args.data} has [${all.classes.join(', ')}]; both need the same sub-folders`);
    trainIdx = order;
    testSet = subset(test, firstIndices(test.length, args.testLimit));
  } else {
    const held = Math.floor(0.2 * all.length);
    if (held === 0) fail(NAME, `${args.data} holds ${all.length} image(s); holding out 20% for testing needs at least 5 (or pass --test)`);
    trainIdx = order.subarray(0, all.length - held);
    const testIdx = order.subarray(all.length - held);
    testSet = subset(all, args.testLimit === undefined ? testIdx : testIdx.subarray(0, args.testLimit));
  }
  // --limit: the first N of the shuffled list (the folder itself is sorted by class).
  const trainSet = subset(all, args.limit === undefined ? trainIdx : trainIdx.subarray(0, args.limit));
  console.log(`data: ${all.describe()}; train ${trainSet.length}, test ${testSet.length}`);

  // image_size=(64, 64), color_mode='rgb', interpolation='bilinear', crop_to_aspect_ratio=False.
  const pipeline = compose({ decode: { channels: 'rgb' }, transforms: [resize({ size: [SIDE, SIDE], interpolation: 'bilinear' })] });
  const trainLoader = new DataLoader(trainSet, { batchSize: args.batchSize, shuffle: true, seed: args.seed, pipeline, batchTransforms: [rawPixels] });
  const testLoader = new DataLoader(testSet, { batchSize: args.batchSize, pipeline, batchTransforms: [rawPixels] });

  // model = tf.keras.Sequential([...]): the article's layers with Keras initialisation, channels
  // first — (N, 3, 64, 64) where Keras has (N, 64, 64, 3). The article's last layer is Dense(10,
  // softmax), which only fits a folder of ten classes: ours has one logit per class folder.
  const classes = all.classes.length;
  const model = models.seedImagenet64Cnn({ numClasses: classes, imageSize: SIDE });
  console.log(`model: seedImagenet64Cnn, ${classes} classes, ${model.numParameters().toLocaleString('en-US')} parameters`);

  // model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy']):
  // Keras' Adam (lr 0.001, epsilon 1e-7); softmax + sparse cross-entropy = cross-entropy on logits.
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.001, betas: [0.9, 0.999], eps: 1e-7 });
  const loss = (logits: Tensor, labels: Tensor) => nn.functional.crossEntropy(logits, labels);
  const learner = new train.Learner({ model, loss, metrics: [metrics.createMetric('accuracy', classes)] }); // the compiled model

  // model.fit(x_train, y_train, epochs=10)
  await learner.fit({
    train: trainLoader, epochs: args.epochs, optimizer, seed: args.seed,
    callbacks: [new train.callbacks.Progress({ stream: process.stdout })],
  });

  // test_loss, test_acc = model.evaluate(x_test, y_test)
  const result = await learner.evaluate(testLoader);
  const testAcc = result.metrics['accuracy'] as number;
  console.log(`evaluate: loss ${result.loss.toFixed(4)} - accuracy ${testAcc.toFixed(4)}`); // what Keras' evaluate prints

  // print('Test accuracy:', test_acc)
  console.log(`Test accuracy: ${pyFloat(testAcc)}`);
});
