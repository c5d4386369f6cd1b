// `tessera serve <run | model.onnx | model repository>`: the inference server (src/serve/). It
// listens at once, is ready when every model is loaded and warmed up, and on SIGTERM or SIGINT stops
// taking connections, answers what is in flight and exits 0 (1 if that takes longer than --grace-ms).
import { type Command, InvalidArgumentError, Option } from 'commander';
import closeWithGrace from 'close-with-grace';

import { fitCount } from '../config/limits.js';
import { BACKENDS, type BackendKind } from '../serve/backend/types.js';
import { resolveModels, SERVE_DEFAULTS, startServer } from '../serve/index.js';

function intIn(flag: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be an integer in ${min}..${max.toLocaleString('en-US')}`);
    return n;
  };
}

interface ServeFlags {
  name?: string;
  backend?: BackendKind;
  host: string;
  port: number;
  maxBatchSize?: number;
  maxQueueDelayMs?: number;
  maxQueue?: number;
  threads?: number;
  timeoutMs: number;
  bodyLimitMb: number;
  maxPixels: number;
  topK: number;
  apiKey?: string;
  graceMs: number;
}

const log = (line: string) => console.error(`tessera serve: ${line}`);

export function registerServeCommand(program: Command): void {
  program
    .command('serve <target>')
    .description('serve a run, an .onnx file or a model repository (<name>/<version>/) over HTTP: KServe v2 tensors, an image route, dynamic batching')
    .option('--name <name>', 'the name to serve a run or .onnx file under (default: the run or file name)')
    .addOption(new Option('--backend <backend>', "for a run: run its weights in LibTorch ('torch', default) or its exported model.onnx in ONNX Runtime").choices([...BACKENDS]))
    .option('--host <host>', 'address to listen on (0.0.0.0 for every interface)', SERVE_DEFAULTS.host)
    .option('--port <n>', 'port (0: any free one)', intIn('--port', 0, 65_535), SERVE_DEFAULTS.port)
    .option('--max-batch-size <n>', `samples per forward pass (default ${SERVE_DEFAULTS.maxBatchSize})`, intIn('--max-batch-size', 1, 4096))
    .option('--max-queue-delay-ms <ms>', `how long a request may wait for a fuller batch (default ${SERVE_DEFAULTS.maxQueueDelayMs}: send what is queued as soon as the model is free)`, intIn('--max-queue-delay-ms', 0, 10_000))
    .option('--max-queue <n>', `samples waiting per model before 503 + Retry-After (default ${SERVE_DEFAULTS.maxQueue})`, intIn('--max-queue', 1, 1_000_000))
    .option('--threads <n>', "each model's inference threads (default: the cores shared out between the models)", intIn('--threads', 1, 1024))
    .option('--timeout-ms <ms>', 'answer 503 to a request not answered within this', intIn('--timeout-ms', 1, 3_600_000), SERVE_DEFAULTS.timeoutMs)
    .option('--body-limit-mb <n>', 'largest request body, in MiB (413 above)', intIn('--body-limit-mb', 1, 2047), SERVE_DEFAULTS.bodyLimit / 2 ** 20)
    .option('--max-pixels <n>', 'decompression-bomb limit: width × height of an image, from its header', intIn('--max-pixels', 1, 1e9), SERVE_DEFAULTS.maxPixels)
    .option('--top-k <n>', 'classes per image on the image route unless the request says top_k', intIn('--top-k', 1, 100_000), SERVE_DEFAULTS.topK)
    .option('--api-key <key>', 'require this key (Authorization: Bearer <key> or X-API-Key) on every route but /v2/health/*; or set TESSERA_API_KEY')
    .option('--grace-ms <ms>', 'on SIGTERM, how long in-flight requests may take before the process exits 1', intIn('--grace-ms', 1, 3_600_000), 30_000)
    .action(async (target: string, flags: ServeFlags) => {
      const threads = flags.threads === undefined ? undefined : fitCount('--threads', flags.threads, (l) => log(`warning: ${l}`));
      const batching = {
        ...(flags.maxBatchSize !== undefined ? { maxBatchSize: flags.maxBatchSize } : {}),
        ...(flags.maxQueueDelayMs !== undefined ? { maxQueueDelayMs: flags.maxQueueDelayMs } : {}),
        ...(flags.maxQueue !== undefined ? { maxQueue: flags.maxQueue } : {}),
        ...(threads !== undefined ? { threads } : {}),
      };
      const sources = resolveModels(target, { ...(flags.name ? { name: flags.name } : {}), ...(flags.backend ? { backend: flags.backend } : {}), batching });
      const apiKey = flags.apiKey ?? process.env.TESSERA_API_KEY;
      const server = await startServer(sources, {
        host: flags.host, port: flags.port, timeoutMs: flags.timeoutMs, bodyLimit: flags.bodyLimitMb * 2 ** 20,
        maxPixels: flags.maxPixels, topK: flags.topK, log, ...(apiKey ? { apiKey } : {}),
      });
      const grace = closeWithGrace({ delay: flags.graceMs, logger: { error: (m: unknown) => log(String(m)) } }, async ({ signal, err }) => {
        if (err) log(`stopping after an unexpected error: ${err.stack ?? err.message}`);
        else log(`${signal ?? 'exit'}: no new connections; finishing the requests in flight`);
        await server.close();
      });
      const list = sources.map((s) => `${s.name} v${s.version} (${s.backend}, batch ≤ ${s.batching.maxBatchSize}, ${s.batching.threads} thread${s.batching.threads > 1 ? 's' : ''})`);
      log(`listening on ${server.url}; loading ${list.join(', ')}`);
      try {
        await server.loaded;
      } catch (e) {
        grace.uninstall();
        await server.close();
        throw e;
      }
      const times = server.models.all.map((m) => `${m.name} v${m.version} in ${(m.loadMs / 1000).toFixed(1)} s`).join(', ');
      log(`ready: ${server.url}/v2/models/${sources[0]?.name}/classify${apiKey ? ' (API key required)' : ''} (loaded and warmed up: ${times})`);
    });
}
