// Prometheus metrics for /metrics (prom-client), in a registry of the server's own so that several
// servers in one process (tests) do not share counters. Route labels are route patterns
// (`/v2/models/:name/infer`), never raw URLs, so their number stays bounded.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ServeMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'code'>;
  readonly latency: Histogram<'route'>;
  readonly queueWait: Histogram<'model' | 'version'>;
  readonly batchSize: Histogram<'model' | 'version'>;
  readonly inference: Histogram<'model' | 'version'>;

  /** `queued` reports each model's waiting samples when Prometheus scrapes. */
  constructor(queued: () => { model: string; version: string; samples: number }[], maxBatchSize: number) {
    const registers = [this.registry];
    // Process metrics: resident memory, heap, event-loop delay, handles.
    collectDefaultMetrics({ register: this.registry, prefix: 'tessera_serve_' });
    this.requests = new Counter({ name: 'tessera_http_requests_total', help: 'HTTP requests answered, by route pattern, method and status code', labelNames: ['route', 'method', 'code'], registers });
    this.latency = new Histogram({ name: 'tessera_http_request_duration_seconds', help: 'Time from receiving a request to sending its answer', labelNames: ['route'], buckets: SECONDS, registers });
    this.queueWait = new Histogram({ name: 'tessera_queue_wait_seconds', help: 'Time a request waited in its model queue before its batch started', labelNames: ['model', 'version'], buckets: SECONDS, registers });
    this.inference = new Histogram({ name: 'tessera_inference_duration_seconds', help: 'Time one batch took in the model (worker thread)', labelNames: ['model', 'version'], buckets: SECONDS, registers });
    const sizes: number[] = [];
    for (let b = 1; b < maxBatchSize; b *= 2) sizes.push(b);
    this.batchSize = new Histogram({ name: 'tessera_batch_size', help: 'Samples per batch sent to the model', labelNames: ['model', 'version'], buckets: [...sizes, maxBatchSize], registers });
    new Gauge({
      name: 'tessera_queue_samples',
      help: 'Samples waiting in a model queue',
      labelNames: ['model', 'version'],
      registers,
      collect() {
        for (const q of queued()) this.set({ model: q.model, version: q.version }, q.samples);
      },
    });
  }
}
