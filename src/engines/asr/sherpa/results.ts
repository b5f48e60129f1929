/**
 * Turning sherpa-onnx recognition results into Parley's transcript pieces: timed words from token
 * timestamps, and SenseVoice's language / emotion / event tags into `HeardEmotion` / `HeardEvent`.
 * Pure functions, tested without sherpa.
 */
import type { SherpaRecognitionResult } from '../../speech-host/protocol.js';
import type { HeardEmotion, HeardEmotionLabel, HeardEvent, TranscriptWord } from '../types.js';

/**
 * SenseVoice's emotion tags (sherpa returns them verbatim in `emotion`). The model card names
 * happy, sad, angry, neutral; FunASR's post-processing also knows fearful, disgusted, surprised.
 * `<|EMO_UNKNOWN|>` means none.
 */
const EMOTIONS: Readonly<Record<string, HeardEmotionLabel>> = {
  HAPPY: 'happy',
  SAD: 'sad',
  ANGRY: 'angry',
  NEUTRAL: 'neutral',
  FEARFUL: 'fearful',
  DISGUSTED: 'disgusted',
  SURPRISED: 'surprised',
};

/** SenseVoice's event tags → Parley's event labels. `<|Speech|>` and unknown tags are no event. */
const EVENTS: Readonly<Record<string, string>> = {
  BGM: 'music',
  APPLAUSE: 'applause',
  LAUGHTER: 'laughter',
  CRY: 'crying',
  COUGH: 'coughing',
  SNEEZE: 'sneezing',
  BREATH: 'breathing',
};

/** `<|HAPPY|>` → `HAPPY`; anything else → undefined. */
function tagName(tag: string | undefined): string | undefined {
  const m = /^<\|(.+)\|>$/.exec(tag?.trim() ?? '');
  return m ? m[1] : undefined;
}

/** The emotion a SenseVoice result carries, if any. */
export function emotionOf(result: SherpaRecognitionResult): HeardEmotionLabel | undefined {
  const name = tagName(result.emotion)?.toUpperCase();
  return name ? EMOTIONS[name] : undefined;
}

/** The non-speech event a SenseVoice result carries, if any (`laughter`, `music`, …). */
export function eventOf(result: SherpaRecognitionResult): string | undefined {
  const name = tagName(result.event)?.toUpperCase();
  return name ? EVENTS[name] : undefined;
}

/** The language a SenseVoice result names (`<|en|>` → `en`), if it names one. */
export function languageOf(result: SherpaRecognitionResult): string | undefined {
  const name = tagName(result.lang)?.toLowerCase();
  return name && /^[a-z]{2,3}$/.test(name) && name !== 'nospeech' ? name : undefined;
}

/** The result's text without tags (SenseVoice can emit stray `<|…|>` tokens) and surrounding space. */
export function cleanText(text: string): string {
  return text
    .replace(/<\|[^|]*\|>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Han, kana, hangul: scripts written without spaces, where each token is its own word. */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/**
 * Timed words from a result's tokens: a token with a leading space (sherpa's rendering of
 * SentencePiece's `▁`) or a CJK character starts a word, other tokens continue it. A token's end
 * is its start plus its duration (TDT models report one) or `tokenSeconds`. Times are offset by
 * `offset` and clamped to `[0, limit]`.
 */
export function wordsOf(result: SherpaRecognitionResult, options: { offset: number; limit: number; tokenSeconds: number }): TranscriptWord[] {
  const { offset, limit, tokenSeconds } = options;
  const clamp = (t: number): number => Math.round(Math.min(Math.max(t, 0), limit) * 1000) / 1000;
  const words: TranscriptWord[] = [];
  let current: TranscriptWord | undefined;
  const n = Math.min(result.tokens.length, result.timestamps.length);
  for (let i = 0; i < n; i++) {
    const token = result.tokens[i]!;
    if (/^<\|.*\|>$/.test(token.trim())) continue;
    const start = clamp(offset + result.timestamps[i]!);
    const duration = result.durations?.[i];
    const end = clamp(offset + result.timestamps[i]! + (duration !== undefined && duration > 0 ? duration : tokenSeconds));
    const startsWord = !current || /^\s/.test(token) || CJK.test(token);
    const text = startsWord ? token.trim() : token;
    if (startsWord) {
      if (text === '') {
        current = undefined;
        continue;
      }
      current = { word: text, start, end: Math.max(start, end) };
      words.push(current);
    } else if (current) {
      current.word += text;
      current.end = Math.max(current.end, end);
    }
  }
  return words;
}

/** A window's emotion with the seconds of audio it covered. */
export interface WeightedEmotion {
  label: HeardEmotionLabel;
  seconds: number;
}

/**
 * The emotion over a whole call: the label heard for the most seconds; its confidence is the
 * share of those seconds among all windows with a label (sherpa exposes no probabilities).
 */
export function overallEmotion(windows: readonly WeightedEmotion[]): HeardEmotion | undefined {
  const totals = new Map<HeardEmotionLabel, number>();
  let all = 0;
  for (const w of windows) {
    totals.set(w.label, (totals.get(w.label) ?? 0) + w.seconds);
    all += w.seconds;
  }
  let best: HeardEmotionLabel | undefined;
  for (const [label, seconds] of totals) if (best === undefined || seconds > totals.get(best)!) best = label;
  if (best === undefined || all <= 0) return undefined;
  return { label: best, confidence: Math.round((totals.get(best)! / all) * 1000) / 1000 };
}

/** Events of consecutive windows with the same label merged into one span. */
export function mergeEvents(events: readonly HeardEvent[]): HeardEvent[] {
  const out: HeardEvent[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (last && last.label === e.label && last.end !== undefined && e.start !== undefined && e.start - last.end < 0.01) {
      last.end = e.end;
    } else {
      out.push({ ...e });
    }
  }
  return out;
}
