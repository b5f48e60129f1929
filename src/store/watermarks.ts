import type { Statement } from 'better-sqlite3';
import { checkKeyHash, type StoreContext, unixSeconds } from './context.js';

/** One watermarked response: what its tag leads back to. */
export interface WatermarkRecord {
  /** The payload carried by the mark (hex). */
  tag: string;
  /** The response the voice belongs to (`chatcmpl-…`, `req_…`). */
  responseId: string;
  /** sha256 of the API key that asked, or null (no keys). */
  owner: string | null;
  /** The model name asked for. */
  model: string;
  /** The OpenAI voice name. */
  voice: string;
  /** Unix seconds. */
  createdAt: number;
}

/**
 * The registry of watermarked responses (table `watermarks`, migration 3). The verifier reads the
 * tags in bulk (`tags`) and matches the soft bits it heard against each: 64 bits compared with a
 * million rows is milliseconds of arithmetic (the query is the cost), so no index on bits is needed.
 */
export class WatermarkStore {
  private readonly insert: Statement;
  private readonly allTags: Statement;
  private readonly byTag: Statement;

  constructor(private readonly ctx: StoreContext) {
    this.insert = ctx.db.prepare('INSERT INTO watermarks (tag, response_id, owner, model, voice, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.allTags = ctx.db.prepare('SELECT DISTINCT tag FROM watermarks').pluck();
    this.byTag = ctx.db.prepare(
      'SELECT tag, response_id AS responseId, owner, model, voice, created_at AS createdAt FROM watermarks WHERE tag = ? ORDER BY seq DESC LIMIT 1',
    );
  }

  /** Records a marked response (created now unless given). */
  put(record: Omit<WatermarkRecord, 'createdAt'> & { createdAt?: number }): WatermarkRecord {
    const row = { ...record, owner: checkKeyHash(record.owner, 'owner'), createdAt: record.createdAt ?? unixSeconds(this.ctx.now()) };
    this.insert.run(row.tag, row.responseId, row.owner, row.model, row.voice, row.createdAt);
    return row;
  }

  /** Every distinct tag issued. */
  tags(): string[] {
    return this.allTags.all() as string[];
  }

  /** The latest response with this tag, or undefined. */
  find(tag: string): WatermarkRecord | undefined {
    return this.byTag.get(tag) as WatermarkRecord | undefined;
  }
}
