// The store's public surface: open one `Store` at start and pass it down.

export { AUDIO_TTL_SEC, type AudioPutParams, type AudioPutResult, AudioStore, isAudioId, type StoredAudio } from './audio.js';
export { apiKeyId, hashApiKey } from './context.js';
export { DATABASE_FILE, type MigrationResult, openStore, SchemaTooNewError, Store, type StoreOptions } from './db.js';
export {
  FILE_PURPOSES,
  type FileCreateParams,
  type FileList,
  type FileListParams,
  type FilePurpose,
  type FileRecord,
  FileStore,
  isFileId,
  MAX_FILE_BYTES,
  MAX_LIST_LIMIT,
  sanitizeFilename,
  storageQuotaExceeded,
} from './files.js';
export { type KeyRecord, KeyStore, type LimitAsk, type LimitCounts } from './keys.js';
export {
  apiKeyIdOf,
  NO_USAGE,
  OPENAI_PRICES_USD_PER_1M,
  type OpenAICost,
  openaiCost,
  type TokenCounts,
  USAGE_KINDS,
  type UsageBucketQuery,
  type UsageEntry,
  type UsageGroup,
  type UsageKind,
  UsageLedger,
  type UsageSummary,
  type UsageSummaryParams,
  type UsageTotals,
  usageKindOf,
} from './usage.js';
export { type WatermarkRecord, WatermarkStore } from './watermarks.js';
