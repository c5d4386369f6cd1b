// Training throughput of a zoo model on random Fashion-MNIST-shaped batches (forward + cross-entropy
// + backward + SGD-momentum step, one scope per step): how many images a second a model trains at,
// to pick a default that fits a time budget. Not a comparison with a peer: the model zoo's numerics
// are checked against PyTorch in test/models.
//
//   node dist/bench/model-throughput.js [--model fashion-net] [--threads 2] [--batch 128] [--steps 20]
//        [--warmup 3] [--size 28] [--channels 1] [--channelsLast] [--bf16] [--widths 32,64,128] [--plain]
import { parseArgs } from 'node:util';

import { autocast, manualSeed, models, nn, optim, randint, randn, scope, setNumThreads, type Tensor } from '../src/index.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'fashion-net' },
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '128' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    size: { type: 'string', default: '28' },
    channels: { type: 'string', default: '1' },
    channelsLast: { type: 'boolean', default: false },
    widths: { type: 'string' },
    plain: { type: 'boolean', default: false },
    bf16: { type: 'boolean', default: false },
  },
});
setNumThreads(Number(a.threads));
manualSeed(0);
const [batch, size, channels] = [Number(a.batch), Number(a.size), Number(a.channels)];
const model =
  a.widths || a.plain
    ? models.fashionNet({ residual: !a.plain, ...(a.widths ? { widths: a.widths.split(',').map(Number) as [number, number, number] } : {}) })
    : models.createModel(a.model, { inChannels: channels, imageSize: size, classes: 10 });
model.train();
if (a.channelsLast) model.to({ memoryFormat: 'channelsLast' });
const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
const x0 = randn([batch, channels, size, size]);
const x: Tensor = a.channelsLast ? x0.contiguous('channelsLast') : x0;
const y = randint(0, 10, [batch]);
const step = () =>
  scope(() => {
    opt.zeroGrad();
    const forward = () => nn.functional.crossEntropy(model.forward(x), y);
    const loss = a.bf16 ? autocast(forward, { dtype: 'bfloat16' }) : forward();
    loss.backward();
    opt.step();
    return loss.item() as number;
  });
for (let i = 0; i < Number(a.warmup); i++) step();
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
for (let i = 0; i < Number(a.steps); i++) step();
const s = Number(process.hrtime.bigint() - t0) / 1e9;
// CPU time of all threads: on a busy machine it still says what a step costs (wall time does not).
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000 / Number(a.steps);
const ips = (Number(a.steps) * batch) / s;
const label = a.widths || a.plain ? `fashion-net(widths=${a.widths ?? '32,64,128'}${a.plain ? ', plain' : ''})` : a.model;
console.log(
  `RESULT ${label}: ${model.numParameters()} parameters, batch ${batch}, ${a.threads} threads${a.channelsLast ? ', channels_last' : ''}${a.bf16 ? ', bf16 autocast' : ''}: ` +
    `${ips.toFixed(0)} images/s (${((s / Number(a.steps)) * 1000).toFixed(1)} ms/step, CPU ${cpuMs.toFixed(1)} ms/step); one 60k-image epoch ≈ ${(60000 / ips).toFixed(0)} s`,
);
