// The store's public surface: open one `Store` at start and pass it down.
export { openStore, Store, SchemaTooNewError, DATABASE_FILE, type StoreOptions, type MigrationResult } from './db.js';
export { hashApiKey } from './context.js';
export { AUDIO_TTL_SEC, isAudioId, type AudioPutParams, type AudioPutResult, type StoredAudio, AudioStore } from './audio.js';
export {
  OPENAI_PRICES_USD_PER_1M,
  openaiCost,
  UsageLedger,
  type OpenAICost,
  type TokenCounts,
  type UsageRecordParams,
  type UsageSummary,
  type UsageSummaryParams,
} from './usage.js';
export {
  FILE_PURPOSES,
  MAX_FILE_BYTES,
  MAX_LIST_LIMIT,
  FileStore,
  isFileId,
  sanitizeFilename,
  type FileCreateParams,
  type FileList,
  type FileListParams,
  type FilePurpose,
  type FileRecord,
} from './files.js';
