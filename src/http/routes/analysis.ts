import type { FastifyInstance } from 'fastify';
import { decodeBase64Strict, DEFAULT_MAX_BYTES as MAX_INPUT_AUDIO_BYTES } from '../../audio/decode/index.js';
import { analyzeUpload } from '../../pipeline/heard.js';
import type { Services } from '../../runtime/services.js';
import { ApiError } from '../errors.js';
import { meteredUsage } from '../key-limits.js';
import type { RouteOptions } from '../mount.js';
import { field, readUploadForm } from '../multipart.js';
import { requestScope } from '../request-scope.js';
import { asObject, readString } from '../validate.js';
import { wireAnalysis } from '../wire.js';

/**
 * `POST /v1/audio/analysis` (a Parley extension): what was said and how. Multipart `file` (+
 * `language`), or JSON `{"audio": "<base64>", "format"?: "wav", "language"?: "en"}` →
 * `{object: "audio.analysis", text, language, duration, analysis: {sentiment, score, arousal,
 * arousal_score, cues, measures}, description}` where `description` is the line the chat
 * pipeline hands to the language model.
 */
export function analysisRoutes(app: FastifyInstance, services: Services, options: RouteOptions = {}): void {
  app.post(`${options.prefix ?? '/v1'}/audio/analysis`, async (request, reply) => {
    let bytes: Uint8Array;
    let format: string | undefined;
    let language: string | undefined;
    let param: string;
    if (request.isMultipart()) {
      const form = await readUploadForm(request, { fileField: 'file', maxFileBytes: MAX_INPUT_AUDIO_BYTES });
      if (!form.file) throw ApiError.missingParameter('file');
      bytes = form.file.bytes;
      format = form.file.filename.split('.').pop();
      language = field(form, 'language');
      param = 'file';
    } else {
      const body = asObject(request.body);
      const audio = readString(body, 'audio', { required: true });
      bytes = decodeBase64Strict(audio, 'audio', { maxBytes: MAX_INPUT_AUDIO_BYTES });
      format = readString(body, 'format');
      language = readString(body, 'language');
      param = 'audio';
    }
    const scope = requestScope(request, reply, services);
    const engines = services.engines(options.modelFor?.(request));
    return wireAnalysis(
      await analyzeUpload({ engines, usage: meteredUsage(request, services), scope }, { bytes, param, format, maxBytes: MAX_INPUT_AUDIO_BYTES }, language),
    );
  });
}
