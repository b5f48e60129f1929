/**
 * Reads the header of a whisper.cpp model file (legacy `ggml` format, "ggml-*.bin") without
 * loading it: enough to reject a wrong file with a clear message before the native code sees it
 * (a malformed file can abort the process inside ggml), and to know whether the model is
 * multilingual — whisper.cpp silently ignores `language` and `translate` for English-only models.
 */
import fs from 'node:fs/promises';

/** The hyper-parameters at the start of the file. */
export interface WhisperModelInfo {
  nVocab: number;
  nAudioState: number;
  nAudioLayer: number;
  nTextLayer: number;
  /** n_vocab ≥ 51865: language tokens and the translate task exist. */
  multilingual: boolean;
  /** How many languages the model's vocabulary has (99, or 100 for large-v3); 1 for English-only. */
  languageCount: number;
}

const GGML_MAGIC = 0x67676d6c; // 'ggml'

/** Reads and checks the header; throws an Error saying what is wrong. */
export async function readWhisperModelInfo(file: string): Promise<WhisperModelInfo> {
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(48);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    if (bytesRead < 48) throw new Error(`${file} is too short to be a whisper.cpp model`);
    const magic = buf.readUInt32LE(0);
    if (magic !== GGML_MAGIC) {
      const gguf = buf.toString('latin1', 0, 4) === 'GGUF';
      throw new Error(
        gguf ? `${file} is a GGUF file; whisper.cpp needs a ggml-*.bin model (legacy ggml format)` : `${file} is not a whisper.cpp model (no 'ggml' magic)`,
      );
    }
    const field = (i: number): number => buf.readInt32LE(4 + 4 * i);
    const nVocab = field(0);
    const info: WhisperModelInfo = {
      nVocab,
      nAudioState: field(2),
      nAudioLayer: field(4),
      nTextLayer: field(8),
      multilingual: nVocab >= 51865,
      // whisper.cpp: num_languages = n_vocab - 51765 - (multilingual ? 1 : 0)
      languageCount: nVocab >= 51865 ? nVocab - 51766 : 1,
    };
    if (nVocab < 51864 || nVocab > 52000 || info.nAudioState <= 0 || info.nAudioLayer <= 0) {
      throw new Error(`${file} has implausible whisper hyper-parameters (n_vocab ${nVocab})`);
    }
    return info;
  } finally {
    await handle.close();
  }
}
