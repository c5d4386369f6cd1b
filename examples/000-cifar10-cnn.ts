// Seed article 000 (/work/shared/seeds/000_*.txt, section 5): a Keras CNN on CIFAR-10 —
// load_data → Sequential(Conv2D 32, MaxPool, Conv2D 64, MaxPool, Flatten, Dense 128, Dense 10)
// → compile(adam, sparse_categorical_crossentropy, accuracy) → fit(epochs=10) → evaluate → print.
//
//   node dist/examples/000-cifar10-cnn.js <cifar-10-batches-bin dir> [--epochs 10] [--limit N] [--test-limit N]
//
// The directory is the unpacked CIFAR-10 binary archive (data_batch_1..5.bin, test_batch.bin), or
// the folder holding it; CIFAR10_DIR may name it instead. Keras downloads the data itself; no
// download is possible here, so the path is an argument.
import { metrics, models, nn, optim, train, data, type Tensor } from 'tessera';
import { exampleArgs, fail, firstIndices, pyFloat, runExample } from './cli.js';

const { cifarDataset, DataLoader, subset } = data;
type BatchTransform = data.transforms.batch.BatchTransform;

const NAME = '000-cifar10-cnn';
const args = exampleArgs({
  name: NAME,
  usage: 'node dist/examples/000-cifar10-cnn.js <cifar-10-batches-bin dir> [options]',
  env: 'CIFAR10_DIR',
  epochs: 10, // model.fit(x_train, y_train, epochs=10)
  batchSize: 32, // fit's and evaluate's batch_size: the article gives none, Keras' default is 32
});

// The article does no scaling ("预处理数据" only unpacks the tuples): Keras trains on the raw
// uint8 pixel values 0..255 cast to float. We do the same, instead of the loader's default ÷255.
const rawPixels: BatchTransform = ({ x, y }) => ({ x: x.to('float32'), y });

runExample(NAME, async () => {
  if (args.data === undefined) fail(NAME, 'give the CIFAR-10 folder (cifar-10-batches-bin) as the first argument or in CIFAR10_DIR');

  // data = tf.keras.datasets.cifar10.load_data(); x_train, y_train = data[0]; x_test, y_test = data[1]
  const trainSet = cifarDataset(args.data, { split: 'train', variant: 10 });
  const testSet = cifarDataset(args.data, { split: 'test', variant: 10 });
  const used = subset(trainSet, firstIndices(trainSet.length, args.limit)); // --limit / --test-limit: the first N
  const testUsed = subset(testSet, firstIndices(testSet.length, args.testLimit));
  console.log(`data: ${used.describe()}; test: ${testUsed.describe()}`);

  // Keras arrays are (N, 32, 32, 3); the loader gives PyTorch's (N, 3, 32, 32), which the model takes.
  const trainLoader = new DataLoader(used, { batchSize: args.batchSize, shuffle: true, seed: args.seed, batchTransforms: [rawPixels] }); // fit shuffles each epoch
  const testLoader = new DataLoader(testUsed, { batchSize: args.batchSize, batchTransforms: [rawPixels] });

  // model = tf.keras.Sequential([...]): the article's layers, Keras initialisation. Its last layer is
  // Dense(10, activation='softmax'); ours returns logits and the loss applies the softmax.
  const model = models.seedCifarCnn();
  console.log(`model: seedCifarCnn, ${model.numParameters().toLocaleString('en-US')} parameters`);

  // model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
  // 'adam' is Keras' Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7); sparse
  // categorical cross-entropy on softmax outputs = cross-entropy on logits with integer labels.
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.001, betas: [0.9, 0.999], eps: 1e-7 });
  const loss = (logits: Tensor, labels: Tensor) => nn.functional.crossEntropy(logits, labels);
  const learner = new train.Learner({ model, loss, metrics: [metrics.createMetric('accuracy', 10)] }); // the compiled model

  // model.fit(x_train, y_train, epochs=10)
  await learner.fit({
    train: trainLoader, epochs: args.epochs, optimizer, seed: args.seed,
    callbacks: [new train.callbacks.Progress({ stream: process.stdout })],
  });

  // test_loss, test_acc = model.evaluate(x_test, y_test)
  const result = await learner.evaluate(testLoader);
  const testLoss = result.loss;
  const testAcc = result.metrics['accuracy'] as number;
  console.log(`evaluate: loss ${testLoss.toFixed(4)} - accuracy ${testAcc.toFixed(4)}`); // what Keras' evaluate prints

  // print('Test accuracy:', test_acc)
  console.log(`Test accuracy: ${pyFloat(testAcc)}`);
});
