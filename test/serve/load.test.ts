// The server under more load than it can take, with a model slow enough (ResNet-9 at 32 px, one
// thread: tens of ms per image) that requests really pile up: a full queue is 503 + Retry-After at
// once, a request past the timeout is 503, batches form under concurrency, and the event loop keeps
// turning while the worker computes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { setNumThreads } from '../../src/index.js';
import { makeRun, picture, postBytes, serve, source, type Answer } from './helpers.js';

setNumThreads(1);
const dir = mkdtempSync(join(tmpdir(), 'tessera-serve-load-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const metric = (text: string, line: RegExp) => Number(new RegExp(`^${line.source} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

describe('tessera serve under load', () => {
  let run: string;
  let image: Buffer;
  before(async () => {
    run = makeRun(join(dir, 'resnet9'), { model: 'resnet9', channels: 3, size: 32 });
    image = await picture(64, 64, 'jpeg');
  });

  it('a full queue answers 503 with Retry-After at once; what was accepted is answered 200', async () => {
    const server = await serve([source(run, { maxBatchSize: 1, maxQueue: 2 }, 'r')]);
    try {
      const url = `${server.url}/v2/models/r/classify`;
      const answers = await Promise.all(Array.from({ length: 24 }, () => postBytes(url, image, 'image/jpeg')));
      const codes = answers.map((a) => a.status);
      assert.ok(codes.every((c) => c === 200 || c === 503), `codes: ${codes.join(' ')}`);
      const busy = answers.filter((a) => a.status === 503);
      assert.ok(busy.length >= 10, `only ${busy.length} of 24 were refused with one in the model and 2 queued`);
      assert.ok(codes.filter((c) => c === 200).length >= 3);
      for (const a of busy) {
        assert.match(a.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
        assert.match(String(a.body.error), /^the queue is full \(\d of 2 samples waiting\); retry later$/);
      }
    } finally {
      await server.close();
    }
  });

  it('a request not answered within --timeout-ms is 503 with Retry-After, and the server goes on', async () => {
    const server = await serve([source(run, { maxBatchSize: 1, maxQueue: 64 }, 'r')], { timeoutMs: 100 });
    try {
      const url = `${server.url}/v2/models/r/classify`;
      const answers = await Promise.all(Array.from({ length: 40 }, () => postBytes(url, image, 'image/jpeg')));
      const late = answers.filter((a) => a.status === 503);
      assert.ok(late.length >= 4, `codes: ${answers.map((a) => a.status).join(' ')}`);
      for (const a of late) {
        assert.equal(a.body.error, "no answer within 100 ms (the server's request timeout); retry later");
        assert.match(a.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
      }
      assert.ok(answers.every((a) => a.status === 200 || a.status === 503));
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await postBytes(url, image, 'image/jpeg')).status, 200);
    } finally {
      await server.close();
    }
  });

  it('under 64 concurrent clients requests share batches and the event loop keeps turning while the worker computes', async (t) => {
    const server = await serve([source(run, { maxBatchSize: 32, maxQueue: 256 }, 'r')]);
    const loop = monitorEventLoopDelay({ resolution: 1 });
    try {
      const url = `${server.url}/v2/models/r/classify`;
      loop.enable();
      const until = performance.now() + 2500;
      const client = async () => {
        const out: Answer[] = [];
        while (performance.now() < until) out.push(await postBytes(url, image, 'image/jpeg'));
        return out;
      };
      const answers = (await Promise.all(Array.from({ length: 64 }, client))).flat();
      loop.disable();
      assert.ok(answers.every((a) => a.status === 200), `codes: ${[...new Set(answers.map((a) => a.status))].join(' ')}`);
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const batches = metric(text, /tessera_batch_size_count\{model="r",version="1"\}/);
      const samples = metric(text, /tessera_batch_size_sum\{model="r",version="1"\}/);
      const seconds = metric(text, /tessera_inference_duration_seconds_sum\{model="r",version="1"\}/);
      const perBatchMs = (1000 * seconds) / batches;
      assert.ok(samples / batches >= 4, `${samples} samples in ${batches} batches: requests did not share batches`);
      // Were inference on the event loop, the loop would stall for a whole batch at a time.
      const p99 = loop.percentile(99) / 1e6;
      t.diagnostic(`${answers.length} requests, ${samples} samples in ${batches} batches, ${perBatchMs.toFixed(1)} ms per batch; event-loop delay p99 ${p99.toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`);
      assert.ok(p99 < perBatchMs / 2, `event-loop delay p99 ${p99.toFixed(1)} ms against ${perBatchMs.toFixed(1)} ms per batch`);
    } finally {
      loop.disable();
      await server.close();
    }
  });
});
