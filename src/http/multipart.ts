import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/** A multipart form read into memory: one file (bounded) and the text fields. */
export interface UploadForm {
  file?: { bytes: Buffer; filename: string; mimetype: string };
  /** Text fields; repeated names (`timestamp_granularities[]`) keep every value. */
  fields: Map<string, string[]>;
}

/** Limits of one multipart body (busboy's names). */
export interface MultipartLimits {
  fileSize: number;
  files: number;
  fields: number;
  fieldSize: number;
}

/**
 * Requests whose body the multipart parser failed on ("Unexpected end of form", "Part terminated
 * early", "Malformed part header", …), with its error: the body's fault, so a 400. Parser errors
 * are plain `Error`s, told apart by where they came from (the parts iterator, a file part's
 * stream), never by their text. Whoever consumes a failed file stream may see another error in
 * its place (`ERR_STREAM_PREMATURE_CLOSE`): hence per request, not per error.
 */
const failedBodies = new WeakMap<FastifyRequest, unknown>();

const BOUNDARY = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i;

/** The 400 for a body the parser could not read; what it said goes to `cause`, for the log. */
function malformed(cause?: unknown): ApiError {
  return new ApiError({
    status: 400,
    type: 'invalid_request_error',
    code: 'invalid_multipart',
    param: null,
    message: 'The multipart/form-data request body is malformed or incomplete and could not be read.',
    cause,
  });
}

/**
 * What the route should throw for `e`, caught while reading `request`'s multipart body or
 * consuming one of its file streams: a 400 when the parser failed on the body, else `e` unchanged
 * (an ApiError, a Fastify limit error, a disk error of the route's own).
 */
export function multipartError(request: FastifyRequest, e: unknown): unknown {
  if (e instanceof ApiError || hasFastifyCode(e)) return e;
  if (failedBodies.has(request)) return malformed(failedBodies.get(request));
  // A file part's stream that closed before its end: the body stopped in the middle of it.
  if ((e as { code?: unknown } | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE') return malformed(e);
  return e;
}

/** Refuses, with a 400, a request that is not multipart/form-data or whose boundary is missing. */
function assertMultipart(request: FastifyRequest, expected: string): void {
  if (!request.isMultipart()) throw ApiError.invalidRequest(null, `Expected a multipart/form-data request body with ${expected}.`, 'unsupported_content_type');
  const m = BOUNDARY.exec(String(request.headers['content-type']));
  if (!m || (m[1] ?? m[2] ?? '') === '') {
    throw ApiError.invalidRequest(
      null,
      "The multipart/form-data Content-Type needs a boundary parameter ('multipart/form-data; boundary=…').",
      'invalid_multipart',
    );
  }
}

/**
 * The parts of a multipart/form-data body, as `request.parts()` yields them, after checking the
 * content type (400 `unsupported_content_type`) and its boundary (400 `invalid_multipart`).
 * Anything the parser throws is a 400 `invalid_multipart`; when a file part's stream fails, the
 * request is marked so that `multipartError` turns what its consumer throws into that 400.
 * `expected` names the fields for the message ("a 'file' field").
 */
export async function* multipartParts(request: FastifyRequest, limits: MultipartLimits, expected: string): AsyncGenerator<Multipart> {
  assertMultipart(request, expected);
  try {
    for await (const part of request.parts({ limits })) {
      if (part.type === 'file') {
        // The parser may have failed the stream already (the whole body arrived in one piece):
        // then the error is stored on it, else it comes as an event.
        const file = part.file;
        const fail = (e: unknown): void => {
          if (e && !(e instanceof ApiError) && !hasFastifyCode(e) && !failedBodies.has(request)) failedBodies.set(request, e);
          // busboy reports a cut-off part with a bare `emit('error')` that leaves the stream open:
          // a reader that is still waiting for data (the file store) would wait forever. Destroyed,
          // every reader sees the end.
          if (!file.destroyed) file.destroy();
        };
        if (file.errored) fail(file.errored);
        file.on('error', fail);
        // Closed before its end with no error at all (the parser gave up on a cut-off body).
        file.on('close', () => {
          if (!file.readableEnded) fail(new Error('a file part closed before its end'));
        });
      }
      yield part;
    }
  } catch (e) {
    // The parser reads nothing but the client's bytes: what it throws is the body's fault, except
    // Fastify's own limit errors (413s with codes, mapped by the error handler) and ApiErrors.
    if (e instanceof ApiError || hasFastifyCode(e)) throw e;
    failedBodies.set(request, e);
    throw malformed(e);
  }
  // A file part cut short may end the iteration quietly (its stream closes, the iterator is done):
  // the form is still incomplete.
  if (failedBodies.has(request)) throw malformed(failedBodies.get(request));
}

/** True for Fastify's (and @fastify/multipart's) coded errors, which the error handler maps. */
function hasFastifyCode(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('FST_');
}

/**
 * Reads a multipart/form-data body. The file field is streamed into memory up to `maxFileBytes`
 * (a larger one is refused with a 413 naming the field, before any decoding happens). A body
 * that is not multipart, lacks its boundary, or is malformed or cut short is a 400.
 */
export async function readUploadForm(request: FastifyRequest, options: { fileField: string; maxFileBytes: number }): Promise<UploadForm> {
  const form: UploadForm = { fields: new Map() };
  const limits = { fileSize: options.maxFileBytes, files: 1, fields: 50, fieldSize: 64 * 1024 };
  try {
    for await (const part of multipartParts(request, limits, `a '${options.fileField}' field`)) {
      if (part.type === 'file') {
        if (part.fieldname !== options.fileField) {
          part.file.resume();
          continue;
        }
        const chunks: Buffer[] = [];
        for await (const chunk of part.file) chunks.push(chunk as Buffer);
        if (part.file.truncated) {
          throw ApiError.tooLarge(`Invalid '${options.fileField}': the file is larger than the maximum of ${options.maxFileBytes} bytes.`, options.fileField);
        }
        form.file = { bytes: Buffer.concat(chunks), filename: part.filename ?? 'audio', mimetype: part.mimetype };
      } else {
        const values = form.fields.get(part.fieldname) ?? [];
        values.push(String(part.value));
        form.fields.set(part.fieldname, values);
      }
    }
  } catch (e) {
    throw multipartError(request, e);
  }
  return form;
}

/** The single value of a text field (the last one if repeated). */
export function field(form: UploadForm, name: string): string | undefined {
  const values = form.fields.get(name);
  return values?.[values.length - 1];
}
