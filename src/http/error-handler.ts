import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, isDiskFull } from './errors.js';

/** Maps anything thrown by a route, by Fastify or by a plugin to an ApiError. Nothing matches on message text. */
export function toApiError(error: unknown, bodyLimit: number): ApiError {
  if (error instanceof ApiError) return error.status === 500 && isDiskFull(error.cause) ? ApiError.insufficientStorage(error.cause) : error;
  if (isDiskFull(error)) return ApiError.insufficientStorage(error);
  const fe = error as Partial<FastifyError> & { name?: string };
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return ApiError.invalidRequest(
        null,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
      return ApiError.tooLarge(`The request body is too large: the limit is ${bodyLimit} bytes.`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return ApiError.invalidRequest(
        null,
        `Unsupported Content-Type. Send 'application/json' (or 'multipart/form-data' for file uploads).`,
        'unsupported_content_type',
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return ApiError.invalidRequest(null, 'The Content-Length header does not match the body.');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return ApiError.invalidRequest(null, 'Expected a multipart/form-data request body.', 'unsupported_content_type');
    default:
      break;
  }
  if (fe.name === 'SyntaxError' && fe.statusCode === 400) return toApiError({ code: 'FST_ERR_CTP_INVALID_JSON_BODY' }, bodyLimit);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ApiError({ status: fe.statusCode, type: 'invalid_request_error', message: fe.message ?? 'Bad request.', code: null, param: null });
  }
  return ApiError.internal(error);
}

/** An error with a form of its own on Azure routes (ContentFilterError, KeyLimitError). */
function hasAzureForm(error: ApiError): error is ApiError & { toAzureWire(): unknown } {
  return typeof (error as { toAzureWire?: unknown }).toAzureWire === 'function';
}

/** True when the error is the work being cancelled (an abort, or `ApiError.cancelled`), not a failure. */
function isCancellation(error: unknown): boolean {
  const e = error as { name?: string; code?: string } | null;
  // A stream of the request or the response closed under the work because the client left.
  return e?.name === 'AbortError' || e?.code === 'ERR_STREAM_PREMATURE_CLOSE' || (error instanceof ApiError && error.code === 'request_cancelled');
}

/** True when the client's connection is gone (it disconnected before the response was complete). */
function clientGone(request: FastifyRequest, reply: FastifyReply): boolean {
  return request.raw.destroyed || request.raw.socket?.destroyed === true || (reply.raw.destroyed && !reply.raw.writableFinished);
}

/** The one place errors become responses. */
export function installErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (clientGone(request, reply) && isCancellation(error)) {
      // The client left and the work stopped because of it: not a server error.
      request.log.info({ status: 499 }, 'client disconnected before the response was complete');
      reply.raw.destroy();
      return;
    }
    const apiError = toApiError(error, bodyLimit);
    if (apiError.status === 500) {
      request.log.error({ err: apiError.cause ?? error }, 'request failed');
    } else if (apiError.status >= 500) {
      // Overload, a missing model, an upstream down: conditions to watch, not faults of this server.
      request.log.warn({ code: apiError.code, status: apiError.status }, apiError.message);
    } else {
      request.log.info({ code: apiError.code, param: apiError.param, status: apiError.status }, apiError.message);
    }
    if (reply.sent || reply.raw.headersSent) {
      // Mid-stream: the status line is gone; end the connection so the client sees the failure.
      reply.raw.destroy();
      return;
    }
    // The body was not read to its end (an upload refused or failed midway): the connection cannot
    // carry another request, so say so rather than let a keep-alive client reuse a socket about to be reset.
    if (!request.raw.complete) reply.header('connection', 'close');
    // Azure routes answer in Azure's own form where it has one: a blocked prompt (innererror,
    // content_filter_result), a key's 429 ({"error": {"code": "429", …}}).
    const body = hasAzureForm(apiError) && request.url.startsWith('/openai/') ? apiError.toAzureWire() : apiError.toWire();
    void reply.status(apiError.status).headers(apiError.headers).header('content-type', 'application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const apiError = ApiError.notFound(`Invalid URL (${request.method} ${request.url.split('?')[0]})`, 'unknown_url');
    void reply.status(404).send(apiError.toWire());
  });
}
