// Seed article 004 (/work/shared/seeds/004_*.txt, section 5): a PyTorch MLP and its training loop —
// Net (fc1 = Linear(784, 500), relu, fc2 = Linear(500, 10)), criterion = nn.CrossEntropyLoss(),
// optimizer = optim.SGD(net.parameters(), lr=0.01), then for 10 epochs over `trainloader`:
// zero_grad → outputs = net(inputs) → loss = criterion(outputs, labels) → backward → step.
// The loop is translated as the article writes it, by hand (not with the Learner), line for line.
//
//   node dist/examples/004-mnist-mlp.js [fashion-mnist dir] [--epochs 10] [--limit N] [--batch-size 64]
//
// What the article leaves out, and what we chose:
// - `trainloader` is never defined. 784 inputs and 10 classes are MNIST's; MNIST is not installed on
//   these machines and cannot be downloaded, so the default data is Debian's Fashion-MNIST
//   (/usr/share/datasets/fashion-mnist), which has MNIST's file format (IDX, gzip), shapes
//   (60,000 + 10,000 grey 28×28) and ten classes; an MNIST folder with the same file names works.
//   The loader is what torchvision's MNIST with ToTensor() and DataLoader(shuffle=True,
//   batch_size=64) gives, the settings of PyTorch's own MNIST example: pixels ÷255 into [0, 1],
//   shuffled each epoch, batches of 64 (`--batch-size`). The article's Net receives flat
//   784-vectors; seedMlp flattens each (1, 28, 28) image itself.
// - `F.relu` is used without `import torch.nn.functional as F`; the model's forward is relu(fc1(x)).
// - Nothing is printed or evaluated. We print each epoch's mean loss and, at the end, the accuracy
//   on the test split, so that a run shows what it learned.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { metrics, models, nn, optim, scope, train, data } from 'tessera';
import { exampleArgs, fail, pyFloat, runExample } from './cli.js';

const { FASHION_MNIST_DIR, loadFashionMnist, DataLoader, tensorDataset, disposeBatch } = data;

const NAME = '004-mnist-mlp';
const args = exampleArgs({
  name: NAME,
  usage: 'node dist/examples/004-mnist-mlp.js [fashion-mnist dir] [options]',
  env: 'TESSERA_FASHION_MNIST',
  defaultData: FASHION_MNIST_DIR,
  epochs: 10, // for epoch in range(10)
  batchSize: 64,
});

const TEN = Array.from({ length: 10 }, (_, i) => String(i)); // fc2 has 10 outputs: labels 0..9

/** A split as an in-memory data set of 28×28 grey images (the first `limit` samples when given). */
function digits(split: 'train' | 'test', dir: string, limit?: number) {
  const prefix = split === 'train' ? 'train' : 't10k';
  const missing = [`${prefix}-images-idx3-ubyte.gz`, `${prefix}-labels-idx1-ubyte.gz`].filter((f) => !existsSync(join(dir, f)));
  if (missing.length) fail(NAME, `${dir} has no ${missing.join(' or ')} (the MNIST file layout that Debian's dataset-fashion-mnist installs)`);
  const d = loadFashionMnist(split, dir);
  if (d.height * d.width !== 784) fail(NAME, `${dir}: ${split} images are ${d.height}×${d.width}; fc1 = Linear(784, 500) needs 28×28 = 784 pixels`);
  const n = limit === undefined ? d.count : Math.min(limit, d.count);
  return tensorDataset(d.images.subarray(0, n * 784), d.labels.subarray(0, n), { shape: [n, d.height, d.width], classes: TEN, name: `${split} ${dir}` });
}

runExample(NAME, async () => {
  const dir = args.data as string;
  const trainSet = digits('train', dir, args.limit);
  const testSet = digits('test', dir, args.testLimit);
  console.log(`data: ${trainSet.describe()}; test: ${testSet.describe()}`);
  // The loader's default batch transform is ToTensor()'s ÷255; it seeds its shuffle with --seed.
  const trainloader = new DataLoader(trainSet, { batchSize: args.batchSize, shuffle: true, seed: args.seed });

  // net = Net() — PyTorch's default initialisation, as in the article.
  const net = models.seedMlp();
  // criterion = nn.CrossEntropyLoss(); optimizer = optim.SGD(net.parameters(), lr=0.01)
  const criterion = new nn.CrossEntropyLoss();
  const optimizer = new optim.SGD(net.parameters(), { lr: 0.01 });
  net.train();

  // for epoch in range(10):
  for (let epoch = 0; epoch < args.epochs; epoch++) {
    let sum = 0;
    let batches = 0;
    //   for i, data in enumerate(trainloader): inputs, labels = data
    for await (const data of trainloader.epoch(epoch)) {
      try {
        // Every tensor made inside the scope (outputs, loss, gradients' temporaries) is freed when it ends.
        sum += scope(() => {
          optimizer.zeroGrad(); //             optimizer.zero_grad()
          const outputs = net.forward(data.x); // outputs = net(inputs)
          const loss = criterion.forward(outputs, data.y); // loss = criterion(outputs, labels)
          loss.backward(); //                  loss.backward()
          optimizer.step(); //                 optimizer.step()
          return loss.item() as number;
        });
        batches++;
      } finally {
        disposeBatch(data); // the batch's tensors belong to us
      }
    }
    console.log(`epoch ${epoch + 1}/${args.epochs}: mean loss ${(sum / Math.max(1, batches)).toFixed(4)}`);
  }

  // Beyond the article: accuracy on the test split (in eval mode, without gradients).
  const testloader = new DataLoader(testSet, { batchSize: 1000 });
  const result = await train.evaluate(net, testloader, [metrics.createMetric('accuracy', 10)]);
  console.log(`Test accuracy: ${pyFloat(result.metrics['accuracy'] as number)}`);
});
