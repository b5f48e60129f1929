import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The file in the data folder that keeps a generated key. */
export const KEY_FILE = 'watermark.key';

/**
 * The watermark key: the configured secret (any string of ≥ 16 characters, hashed to 32 bytes), or
 * the one generated at first start and kept in `<dataDir>/watermark.key` (32 random bytes as hex,
 * readable by the owner only). Losing that file means losing the ability to verify what was
 * marked with it: back it up with the database.
 */
export function loadWatermarkKey(options: { configured?: string; dataDir: string }): { key: Uint8Array; source: 'config' | 'file' | 'generated' } {
  if (options.configured) return { key: crypto.createHash('sha256').update(options.configured, 'utf8').digest(), source: 'config' };
  const file = path.join(options.dataDir, KEY_FILE);
  const read = (): Uint8Array | undefined => {
    try {
      const hex = fs.readFileSync(file, 'utf8').trim();
      if (!/^[0-9a-f]{64}$/.test(hex))
        throw new Error(`${file} does not hold a watermark key (64 hex digits); restore it from a backup or remove it to make a new one`);
      return Buffer.from(hex, 'hex');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  };
  const existing = read();
  if (existing) return { key: existing, source: 'file' };
  fs.mkdirSync(options.dataDir, { recursive: true });
  try {
    // 'wx': two processes starting on one data folder at once keep the first key.
    fs.writeFileSync(file, `${crypto.randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    return { key: read()!, source: 'generated' };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { key: read()!, source: 'file' };
    throw e;
  }
}
