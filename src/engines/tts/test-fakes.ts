/** Test helpers: a scripted engine that records what it was asked. Used by tests only. */
import type { PcmAudio } from '../../audio/types.js';
import type { SynthesisRequest, TtsEngine, TtsVoice, VoiceRendering } from './types.js';
import { OPENAI_VOICES } from './types.js';

/** A fake engine: each synthesis returns 0.1 s of a 200 Hz tone and is recorded. */
export class FakeTtsEngine implements TtsEngine {
  readonly requests: SynthesisRequest[] = [];
  disposed = false;

  constructor(
    readonly id: string,
    private readonly voiceList: readonly TtsVoice[],
    private readonly langs: readonly string[],
    private readonly map: Readonly<Record<string, VoiceRendering>> = Object.fromEntries(OPENAI_VOICES.map((n) => [n, { voice: voiceList[0]!.id }])),
  ) {}

  voices(): readonly TtsVoice[] {
    return this.voiceList;
  }
  languages(): readonly string[] {
    return this.langs;
  }
  defaultVoiceMap(): Readonly<Record<string, VoiceRendering>> {
    return this.map;
  }
  async synthesize(request: SynthesisRequest): Promise<PcmAudio> {
    this.requests.push(request);
    const samples = new Float32Array(1600).map((_, i) => 0.3 * Math.sin((2 * Math.PI * 200 * i) / 16_000));
    return { samples, sampleRate: 16_000 };
  }
  async dispose(): Promise<void> {
    this.disposed = true;
  }
}
