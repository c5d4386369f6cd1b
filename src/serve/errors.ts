// The one error the server answers with: an HTTP status, a sentence naming what was wrong, and for
// 503s how long to wait before retrying. Anything else that reaches the error handler is our bug (500).

export class ServeError extends Error {
  override name = 'ServeError';
  constructor(
    readonly statusCode: number,
    message: string,
    /** Seconds, sent as Retry-After (503s). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new ServeError(400, message);
export const notFound = (message: string) => new ServeError(404, message);
export const unavailable = (message: string, retryAfter = 1) => new ServeError(503, message, Math.max(1, Math.ceil(retryAfter)));
