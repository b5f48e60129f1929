/**
 * Batch records inside Parley (camelCase); `http/routes/batches.ts` maps them to OpenAI's `batch`
 * object. See shared/contract/05_* and 09_*.
 */

/** Every status of OpenAI's batch object, in lifecycle order. */
export const BATCH_STATUSES = ['validating', 'failed', 'in_progress', 'finalizing', 'completed', 'expired', 'cancelling', 'cancelled'] as const;

/** A batch's status. */
export type BatchStatus = (typeof BATCH_STATUSES)[number];

/** Endpoints a batch may target: OpenAI's chat completions, and Parley's audio extensions. */
export const BATCH_ENDPOINTS = ['/v1/chat/completions', '/v1/audio/speech', '/v1/audio/transcriptions', '/v1/audio/translations'] as const;

/** A batch endpoint. */
export type BatchEndpoint = (typeof BATCH_ENDPOINTS)[number];

/** OpenAI's limit on requests per batch input file. */
export const MAX_BATCH_LINES = 50_000;

/** One problem found in the input file (`errors.data[]` of the batch object). */
export interface BatchError {
  /** Machine-readable code, e.g. `invalid_json_line`. */
  code: string;
  /** What is wrong, in words. */
  message: string;
  /** The offending field of the line (e.g. `custom_id`, `body.stream`), or null. */
  param: string | null;
  /** 1-based line number in the input file, or null when about the whole file. */
  line: number | null;
}

/** How many requests the batch has and how they went. */
export interface RequestCounts {
  /** Requests (non-blank lines) in the input file. */
  total: number;
  /** Requests answered with a 2xx. */
  completed: number;
  /** Requests that could not be run or were answered with an error (invalid lines included). */
  failed: number;
}

/** A batch as stored. Times are unix seconds, null until reached. */
export interface BatchRecord {
  /** `batch_` + 32 hex characters. */
  id: string;
  /** sha256 of the creating API key, or null (no auth). */
  owner: string | null;
  /** The endpoint every line targets. */
  endpoint: BatchEndpoint;
  /** The uploaded JSONL file (purpose `batch`). */
  inputFileId: string;
  /** As given, e.g. `24h`. */
  completionWindow: string;
  /** Current status. */
  status: BatchStatus;
  /** Why the batch stopped early (`cancelled`, `expired`), or null. */
  stopReason: 'cancelled' | 'expired' | null;
  /** Problems found in the input file, or null when none. */
  errors: BatchError[] | null;
  /** Successful responses (JSONL), once finalized and non-empty. */
  outputFileId: string | null;
  /** Failed, invalid and unrun requests (JSONL), once finalized and non-empty. */
  errorFileId: string | null;
  createdAt: number;
  inProgressAt: number | null;
  expiresAt: number;
  finalizingAt: number | null;
  completedAt: number | null;
  failedAt: number | null;
  expiredAt: number | null;
  cancellingAt: number | null;
  cancelledAt: number | null;
  /** Live counts, updated as each line is committed. */
  requestCounts: RequestCounts;
  /** Up to 16 string pairs given at creation, or null. */
  metadata: Record<string, string> | null;
}

/** A line taken by a worker to run. */
export interface ClaimedLine {
  /** The batch it belongs to. */
  batchId: string;
  /** 1-based line number in the input file. */
  lineNo: number;
  /** The client's id for the request. */
  customId: string;
  /** The request: `{"url": "/v1/…", "body": {…}}` as JSON text. */
  request: string;
  /** sha256 of the batch owner's key (the line runs as that key), or null. */
  owner: string | null;
}

/** How a line ended: `done` goes to the output file, `failed` to the error file. */
export interface LineResult {
  /** `done` for a 2xx response, `failed` otherwise. */
  state: 'done' | 'failed';
  /** The finished output/error-file line (one line of JSON, no newline). */
  line: string;
}
