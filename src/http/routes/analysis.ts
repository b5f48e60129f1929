import type { FastifyInstance } from 'fastify';
import { decodeAudio, decodeBase64Strict, DEFAULT_MAX_BYTES as MAX_INPUT_AUDIO_BYTES } from '../../audio/decode/index.js';
import { RECOGNITION_RATE } from '../../pipeline/transcribe.js';
import { understandAudio } from '../../pipeline/understand.js';
import { ApiError } from '../errors.js';
import { field, readUploadForm } from '../multipart.js';
import type { Services } from '../services.js';
import { asObject, readString } from '../validate.js';
import { snakeKeys } from '../wire.js';
import { clientAbortSignal, type RouteOptions } from './speech.js';

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
    const signal = clientAbortSignal(request, reply, services);
    const pcm = await decodeAudio(bytes, { param, format, maxBytes: MAX_INPUT_AUDIO_BYTES, maxRate: RECOGNITION_RATE, signal });
    const [asr, vad, analyzer] = await Promise.all([services.asr(), services.vad(), services.analyzer()]);
    const result = await understandAudio({ asr, vad, analyzer, run: (job, s) => services.limiter.run(job, { signal: s }) }, pcm, { language, signal });
    const { arousalTerms: _terms, ...analysis } = result.analysis;
    return {
      object: 'audio.analysis',
      text: result.transcript.text,
      language: result.transcript.language,
      duration: Math.round(result.transcript.durationSec * 100) / 100,
      analysis: snakeKeys(analysis),
      description: result.description,
    };
  });
}
