import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/** A multipart form read into memory: one file (bounded) and the text fields. */
export interface UploadForm {
  file?: { bytes: Buffer; filename: string; mimetype: string };
  /** Text fields; repeated names (`timestamp_granularities[]`) keep every value. */
  fields: Map<string, string[]>;
}

/**
 * Reads a multipart/form-data body. The file field is streamed into memory up to `maxFileBytes`
 * (a larger one is refused with a 413 naming the field, before any decoding happens).
 */
export async function readUploadForm(request: FastifyRequest, options: { fileField: string; maxFileBytes: number }): Promise<UploadForm> {
  if (!request.isMultipart()) {
    throw ApiError.invalidRequest(null, "Expected a multipart/form-data request body with a 'file' field.", 'unsupported_content_type');
  }
  const form: UploadForm = { fields: new Map() };
  for await (const part of request.parts({ limits: { fileSize: options.maxFileBytes, files: 1, fields: 50, fieldSize: 64 * 1024 } })) {
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
  return form;
}

/** The single value of a text field (the last one if repeated). */
export function field(form: UploadForm, name: string): string | undefined {
  const values = form.fields.get(name);
  return values?.[values.length - 1];
}
