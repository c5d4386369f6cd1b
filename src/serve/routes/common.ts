// What the route files share: the model a request names, and the deadline it must be answered by.
import type { FastifyRequest } from 'fastify';

import { unavailable } from '../errors.js';
import type { ServedModel } from '../model.js';
import type { ServeOptions } from '../options.js';
import type { ModelTable } from '../table.js';

export interface RouteContext {
  table: ModelTable;
  options: ServeOptions;
}

export interface ModelParams {
  name: string;
  version?: string;
}

/** A model route's path without and with `/versions/:version`. */
export function modelPaths(suffix: string): string[] {
  return [`/v2/models/:name${suffix}`, `/v2/models/:name/versions/:version${suffix}`];
}

export function modelOf(ctx: RouteContext, req: FastifyRequest<{ Params: ModelParams }>): ServedModel {
  return ctx.table.get(req.params.name, req.params.version);
}

/** Milliseconds left of the request's timeout (fastify's clock starts when the request arrives). */
export function remainingMs(ctx: RouteContext, elapsedMs: number): number {
  const left = ctx.options.timeoutMs - elapsedMs;
  if (left <= 0) throw unavailable(`no answer within ${ctx.options.timeoutMs} ms (the server's request timeout); retry later`);
  return left;
}

/** `work`, or a 503 when it has not settled within `ms`. */
export async function within<T>(work: Promise<T>, ms: number, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable(`no answer within ${timeoutMs} ms (the server's request timeout); retry later`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
