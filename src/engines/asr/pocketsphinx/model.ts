/** Where pocketsphinx's US English model lives (Debian `pocketsphinx-en-us`). */
import fs from 'node:fs';
import path from 'node:path';

/** Debian's model folder. */
export const DEFAULT_SPHINX_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

/** What `apt-get` installs the engine. */
export const SPHINX_INSTALL_HINT = 'apt-get install pocketsphinx pocketsphinx-en-us';

/** The three things a decoder needs. */
export interface SphinxModelPaths {
  /** Acoustic model folder (has `mdef`). */
  hmm: string;
  /** Language model (`*.lm.bin` or ARPA). */
  lm: string;
  /** Pronunciation dictionary. */
  dict: string;
}

/**
 * The model files in `dir` (laid out like Debian's: `en-us/`, `en-us.lm.bin`,
 * `cmudict-en-us.dict`), or a list of what is missing.
 */
export function locateSphinxModel(dir: string = DEFAULT_SPHINX_MODEL_DIR): { ok: true; paths: SphinxModelPaths } | { ok: false; missing: string[] } {
  const paths: SphinxModelPaths = {
    hmm: path.join(dir, 'en-us'),
    lm: path.join(dir, 'en-us.lm.bin'),
    dict: path.join(dir, 'cmudict-en-us.dict'),
  };
  const missing: string[] = [];
  if (!exists(path.join(paths.hmm, 'mdef'))) missing.push(paths.hmm);
  if (!exists(paths.lm)) missing.push(paths.lm);
  if (!exists(paths.dict)) missing.push(paths.dict);
  return missing.length === 0 ? { ok: true, paths } : { ok: false, missing };
}

function exists(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
