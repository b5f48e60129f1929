/** What `/v1/audio/analysis` heard, rendered for people. Fields the server adds later are shown when present. */

/** `/v1/audio/analysis` as it is on the wire. */
export interface AnalysisWire {
  text: string;
  language?: string;
  duration?: number;
  description?: string;
  emotion?: EmotionWire | null;
  events?: EventWire[] | null;
  analysis?: {
    sentiment?: string;
    score?: number;
    arousal?: string;
    arousal_score?: number;
    cues?: string[];
    emotion?: EmotionWire | null;
    events?: EventWire[] | null;
    measures?: {
      duration_sec?: number;
      speech_sec?: number;
      pitch?: { median_hz?: number; range_semitones?: number } | null;
      loudness?: { speech_rms_db?: number } | null;
      rate?: { words_per_sec?: number } | null;
      pauses?: { count?: number; longest_sec?: number } | null;
    };
  };
}
interface EmotionWire {
  label: string;
  confidence?: number;
  source?: string;
}
interface EventWire {
  label: string;
  start?: number;
  end?: number;
  confidence?: number;
}

const signed = (n: number | undefined) => (n === undefined ? '' : ` (${n >= 0 ? '+' : ''}${n.toFixed(2)})`);
const pct = (n: number | undefined) => (n === undefined ? '' : ` ${Math.round(n * 100)}%`);

export function AnalysisView({ wire }: { wire: AnalysisWire }) {
  const a = wire.analysis ?? {};
  const m = a.measures ?? {};
  const emotion = wire.emotion ?? a.emotion ?? null;
  const events = wire.events ?? a.events ?? [];
  const rows: Array<[string, string]> = [];
  if (emotion) rows.push(['Emotion', `${emotion.label}${pct(emotion.confidence)}${emotion.source ? ` · from ${emotion.source}` : ''}`]);
  if (a.sentiment) rows.push(['Sentiment', `${a.sentiment}${signed(a.score)}`]);
  if (a.arousal) rows.push(['Arousal', `${a.arousal}${signed(a.arousal_score)}`]);
  if (m.rate?.words_per_sec !== undefined) rows.push(['Pace', `${m.rate.words_per_sec.toFixed(1)} words/s`]);
  if (m.pitch?.median_hz !== undefined) {
    const range = m.pitch.range_semitones !== undefined ? `, range ${m.pitch.range_semitones.toFixed(0)} st` : '';
    rows.push(['Pitch', `${Math.round(m.pitch.median_hz)} Hz${range}`]);
  }
  if (m.pauses && m.pauses.count !== undefined)
    rows.push(['Pauses', m.pauses.count === 0 ? 'none' : `${m.pauses.count}, longest ${(m.pauses.longest_sec ?? 0).toFixed(1)} s`]);
  if (m.loudness?.speech_rms_db !== undefined && m.loudness.speech_rms_db > -120) rows.push(['Level', `${m.loudness.speech_rms_db.toFixed(0)} dBFS`]);
  if (events.length > 0) rows.push(['Events', events.map((e) => `${e.label}${e.start !== undefined ? ` at ${e.start.toFixed(1)} s` : ''}`).join(', ')]);
  return (
    <div class="analysis">
      <dl>
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {a.cues && a.cues.length > 0 ? <p class="cues">Cues: {a.cues.join('; ')}</p> : null}
    </div>
  );
}
