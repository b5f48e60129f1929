/**
 * pocketsphinx 5prealpha (Debian `libpocketsphinx3` 0.8+5prealpha) called in-process through koffi.
 *
 * Signatures are those of the 5prealpha headers (checked against the library's code:
 * `ps_get_hyp(ps, int32 *score)` and `ps_seg_iter(ps)` lost their older `uttid` / score arguments).
 * The decoder is not thread-safe: the engine runs one recognition at a time. The long calls
 * (`ps_process_raw`, `ps_end_utt`) run on koffi's worker threads so the event loop stays free.
 */
import type { SphinxModelPaths } from './model.js';

/** A recognised word; times in frames (100 per second by default). */
export interface SphinxWord {
  word: string;
  startFrame: number;
  /** Last frame, inclusive. */
  endFrame: number;
  /** Posterior probability 0–1 from the lattice. */
  confidence: number;
}

type Ptr = unknown;
type Fn = (...args: unknown[]) => unknown;
type AsyncFn = Fn & { async: (...args: unknown[]) => void };

const LIBPS = 'libpocketsphinx.so.3';
const LIBSB = 'libsphinxbase.so.3';

/** The functions we use, bound once per process. */
interface SphinxApi {
  ps_args: Fn;
  cmd_ln_init: Fn;
  cmd_ln_int_r: Fn;
  cmd_ln_free_r: Fn;
  ps_init: AsyncFn;
  ps_free: Fn;
  ps_start_stream: Fn;
  ps_start_utt: Fn;
  ps_process_raw: AsyncFn;
  ps_end_utt: AsyncFn;
  ps_get_in_speech: Fn;
  ps_set_keyphrase: Fn;
  ps_set_search: Fn;
  ps_get_search: Fn;
  ps_get_hyp: Fn;
  ps_get_logmath: Fn;
  ps_seg_iter: Fn;
  ps_seg_next: Fn;
  ps_seg_word: Fn;
  ps_seg_frames: Fn;
  ps_seg_prob: Fn;
  ps_seg_free: Fn;
  logmath_exp: Fn;
}

let api: Promise<SphinxApi> | undefined;

/** Loads koffi and the two libraries; rejects with the loader's message when they are missing. */
export function loadSphinxApi(): Promise<SphinxApi> {
  api ??= (async () => {
    const koffi = (await import('koffi')).default;
    // libpocketsphinx links libsphinxbase; loading both by name gives a clear error for each.
    const sb = koffi.load(LIBSB);
    const ps = koffi.load(LIBPS);
    koffi.opaque('cmd_ln_t');
    koffi.opaque('ps_decoder_t');
    koffi.opaque('ps_seg_t');
    koffi.opaque('logmath_t');
    const f = (lib: typeof ps, proto: string): Fn => lib.func(proto) as Fn;
    return {
      ps_args: f(ps, 'const void *ps_args()'),
      cmd_ln_init: f(sb, 'cmd_ln_t *cmd_ln_init(cmd_ln_t *inout, const void *defn, int strict, ...)'),
      cmd_ln_int_r: f(sb, 'long cmd_ln_int_r(cmd_ln_t *cmdln, const char *name)'),
      cmd_ln_free_r: f(sb, 'int cmd_ln_free_r(cmd_ln_t *cmdln)'),
      ps_init: f(ps, 'ps_decoder_t *ps_init(cmd_ln_t *config)') as AsyncFn,
      ps_free: f(ps, 'int ps_free(ps_decoder_t *ps)'),
      ps_start_stream: f(ps, 'int ps_start_stream(ps_decoder_t *ps)'),
      ps_start_utt: f(ps, 'int ps_start_utt(ps_decoder_t *ps)'),
      ps_process_raw: f(ps, 'int ps_process_raw(ps_decoder_t *ps, const int16_t *data, size_t n_samples, int no_search, int full_utt)') as AsyncFn,
      ps_end_utt: f(ps, 'int ps_end_utt(ps_decoder_t *ps)') as AsyncFn,
      ps_get_in_speech: f(ps, 'uint8_t ps_get_in_speech(ps_decoder_t *ps)'),
      ps_set_keyphrase: f(ps, 'int ps_set_keyphrase(ps_decoder_t *ps, const char *name, const char *keyphrase)'),
      ps_set_search: f(ps, 'int ps_set_search(ps_decoder_t *ps, const char *name)'),
      ps_get_search: f(ps, 'const char *ps_get_search(ps_decoder_t *ps)'),
      ps_get_hyp: f(ps, 'const char *ps_get_hyp(ps_decoder_t *ps, _Out_ int32_t *out_best_score)'),
      ps_get_logmath: f(ps, 'logmath_t *ps_get_logmath(ps_decoder_t *ps)'),
      ps_seg_iter: f(ps, 'ps_seg_t *ps_seg_iter(ps_decoder_t *ps)'),
      ps_seg_next: f(ps, 'ps_seg_t *ps_seg_next(ps_seg_t *seg)'),
      ps_seg_word: f(ps, 'const char *ps_seg_word(ps_seg_t *seg)'),
      ps_seg_frames: f(ps, 'void ps_seg_frames(ps_seg_t *seg, _Out_ int *out_sf, _Out_ int *out_ef)'),
      ps_seg_prob: f(ps, 'int32_t ps_seg_prob(ps_seg_t *seg, _Out_ int32_t *ascr, _Out_ int32_t *lscr, _Out_ int32_t *lback)'),
      ps_seg_free: f(ps, 'void ps_seg_free(ps_seg_t *seg)'),
      logmath_exp: f(sb, 'double logmath_exp(logmath_t *lmath, int logb_p)'),
    };
  })();
  api.catch(() => {
    api = undefined; // let a later call retry (e.g. after the packages were installed)
  });
  return api;
}

function isNull(p: Ptr): boolean {
  return p === null || p === undefined || p === 0n || p === 0;
}

function callAsync<T = number>(fn: AsyncFn, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (err: unknown, result: T) => (err ? reject(err) : resolve(result)));
  });
}

/** One pocketsphinx decoder (acoustic model, language model, dictionary loaded once). */
export class SphinxDecoder {
  /** Frames per second of the front end (`-frate`). */
  readonly frameRate: number;
  private freed = false;

  private constructor(
    private readonly api: SphinxApi,
    private readonly config: Ptr,
    private readonly ps: Ptr,
  ) {
    this.frameRate = Number(api.cmd_ln_int_r(config, '-frate')) || 100;
  }

  /** Loads the models (~0.2 s, on a worker thread); throws when pocketsphinx refuses them. */
  static async create(model: SphinxModelPaths, extraArgs: readonly string[] = []): Promise<SphinxDecoder> {
    const a = await loadSphinxApi();
    const args = ['-hmm', model.hmm, '-lm', model.lm, '-dict', model.dict, '-logfn', '/dev/null', ...extraArgs];
    const variadic: unknown[] = [];
    for (const s of args) variadic.push('const char *', s);
    variadic.push('const char *', null); // the list ends with NULL
    const config = a.cmd_ln_init(null, a.ps_args(), 1, ...variadic);
    if (isNull(config)) throw new Error(`pocketsphinx rejected its arguments: ${args.join(' ')}`);
    const ps = await callAsync<Ptr>(a.ps_init, config);
    if (isNull(ps)) {
      a.cmd_ln_free_r(config);
      throw new Error(`pocketsphinx could not load its model from ${model.hmm}`);
    }
    return new SphinxDecoder(a, config, ps);
  }

  /** Starts a new stream (times count from here) and its first utterance. */
  startStream(): void {
    this.check();
    this.api.ps_start_stream(this.ps);
    if (Number(this.api.ps_start_utt(this.ps)) < 0) throw new Error('ps_start_utt failed');
  }

  /** Starts the next utterance of the stream. */
  startUtterance(): void {
    this.check();
    if (Number(this.api.ps_start_utt(this.ps)) < 0) throw new Error('ps_start_utt failed');
  }

  /** Feeds 16 kHz samples (on a worker thread); returns whether pocketsphinx's VAD hears speech now. */
  async process(samples: Int16Array): Promise<boolean> {
    this.check();
    const r = await callAsync(this.api.ps_process_raw, this.ps, samples, samples.length, 0, 0);
    if (r < 0) throw new Error('ps_process_raw failed');
    return Number(this.api.ps_get_in_speech(this.ps)) !== 0;
  }

  /** Ends the utterance (final search, on a worker thread) and returns its words, fillers removed. */
  async endUtterance(): Promise<SphinxWord[]> {
    this.check();
    const r = await callAsync(this.api.ps_end_utt, this.ps);
    if (r < 0) throw new Error('ps_end_utt failed');
    return this.words();
  }

  /** Adds a keyword-spotting search (cheap: only the keyphrase's phones are scored). */
  addKeyphraseSearch(name: string, keyphrase: string): void {
    this.check();
    if (Number(this.api.ps_set_keyphrase(this.ps, name, keyphrase)) < 0) throw new Error(`ps_set_keyphrase(${name}) failed`);
  }

  /** The active search's name (`_default` = the language model). */
  get search(): string {
    return (this.api.ps_get_search(this.ps) as string | null) ?? '';
  }

  set search(name: string) {
    this.check();
    if (Number(this.api.ps_set_search(this.ps, name)) < 0) throw new Error(`ps_set_search(${name}) failed`);
  }

  /** The best hypothesis of the last utterance as one string (for diagnostics). */
  hypothesis(): string {
    const score = [0];
    return (this.api.ps_get_hyp(this.ps, score) as string | null) ?? '';
  }

  /** Frees the decoder and its configuration. Safe to call twice. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.api.ps_free(this.ps);
    this.api.cmd_ln_free_r(this.config);
  }

  private words(): SphinxWord[] {
    const a = this.api;
    const words: SphinxWord[] = [];
    const logmath = a.ps_get_logmath(this.ps);
    let seg = a.ps_seg_iter(this.ps);
    while (!isNull(seg)) {
      const raw = (a.ps_seg_word(seg) as string | null) ?? '';
      const sf = [0];
      const ef = [0];
      a.ps_seg_frames(seg, sf, ef);
      const prob = Number(a.ps_seg_prob(seg, [0], [0], [0]));
      const word = cleanWord(raw);
      if (word) {
        words.push({ word, startFrame: sf[0]!, endFrame: ef[0]!, confidence: Number(a.logmath_exp(logmath, prob)) });
      }
      // ps_seg_next frees the iterator when it returns NULL.
      seg = a.ps_seg_next(seg);
    }
    return words;
  }

  private check(): void {
    if (this.freed) throw new Error('pocketsphinx decoder was freed');
  }
}

/**
 * A dictionary word as the user should see it: alternative pronunciations lose their `(2)`,
 * fillers (`<s>`, `</s>`, `<sil>`, `[NOISE]`, `++UH++`) are dropped (empty string).
 */
export function cleanWord(raw: string): string {
  if (/^(<.*>|\[.*\]|\+\+.*\+\+)$/.test(raw)) return '';
  return raw.replace(/\(\d+\)$/, '');
}
