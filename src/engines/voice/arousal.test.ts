import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AROUSAL_WEIGHTS, CALM_THRESHOLD, computeArousal, EXCITED_THRESHOLD } from './arousal.js';
import { updateBaseline } from './baseline.js';
import type { SpeakerBaseline, VoiceMeasures } from './types.js';

type Inputs = Pick<VoiceMeasures, 'speechSec' | 'pitch' | 'loudness' | 'rate'>;

/** Synthetic measures: a typical voice unless told otherwise. */
function measures(
  o: {
    sps?: number;
    medianHz?: number;
    elevationSt?: number;
    rangeSt?: number;
    db?: number;
    voicedSec?: number;
    speechSec?: number;
    noPitch?: boolean;
    estimated?: boolean;
  } = {},
): Inputs {
  const median = o.medianHz ?? 120;
  const p10 = median / 2 ** ((o.elevationSt ?? 3.5) / 12);
  const range = o.rangeSt ?? 7;
  const sps = o.sps ?? 4.4;
  return {
    speechSec: o.speechSec ?? 3,
    pitch: o.noPitch
      ? null
      : {
          medianHz: median,
          minHz: p10 * 0.9,
          maxHz: p10 * 2 ** (range / 12) * 1.1,
          p10Hz: p10,
          p90Hz: p10 * 2 ** (range / 12),
          rangeSemitones: range,
          voicedSec: o.voicedSec ?? 2,
        },
    loudness: { rmsDb: (o.db ?? -20) - 3, peakDb: (o.db ?? -20) + 12, speechRmsDb: o.db ?? -20 },
    rate: { wordsPerSec: sps / 1.4, syllablesPerSec: sps, source: o.estimated ? 'syllable-estimate' : 'transcript' },
  };
}

describe('the arousal rule', () => {
  test('a typical voice (4.4 syllables/s, 120 Hz, 7 st range, -20 dBFS) is neutral with a score of 0', () => {
    const r = computeArousal(measures());
    assert.equal(r.arousal, 'neutral');
    assert.ok(Math.abs(r.arousalScore) < 0.01, `score ${r.arousalScore}`);
  });

  test('fast, loud, high and wide-ranging speech is excited', () => {
    const r = computeArousal(measures({ sps: 6.5, medianHz: 290, elevationSt: 6, rangeSt: 12, db: -12 }));
    assert.equal(r.arousal, 'excited');
    assert.ok(r.arousalScore > 0.7, `score ${r.arousalScore}`);
  });

  test('slow, quiet, low and flat speech is calm', () => {
    const r = computeArousal(measures({ sps: 3, medianHz: 75, elevationSt: 1.5, rangeSt: 3, db: -30 }));
    assert.equal(r.arousal, 'calm');
    assert.ok(r.arousalScore < -0.7, `score ${r.arousalScore}`);
  });

  test('the same voice is calm slow and low (rate ×0.7, pitch ×0.7) and excited fast and high (rate ×1.6, pitch ×1.5)', () => {
    for (const [hz, sps] of [
      [100, 4],
      [180, 4.5],
      [130, 4.4],
      [230, 4.2],
    ] as const) {
      const slow = computeArousal(measures({ sps: sps * 0.7, medianHz: hz * 0.7 }));
      const fast = computeArousal(measures({ sps: sps * 1.6, medianHz: hz * 1.5 }));
      assert.equal(slow.arousal, 'calm', `${hz} Hz slow: ${slow.arousalScore}`);
      assert.equal(fast.arousal, 'excited', `${hz} Hz fast: ${fast.arousalScore}`);
    }
  });

  test('a fast talker slowed down is on the calm border alone, and clearly calm against their own baseline', () => {
    const slow = measures({ sps: 5 * 0.7, medianHz: 130 * 0.7 });
    const alone = computeArousal(slow);
    const against = computeArousal(slow, { medianHz: 130, voicedSec: 10, syllablesPerSec: 5 });
    assert.ok(alone.arousalScore < -0.2, `alone ${alone.arousalScore}`);
    assert.equal(against.arousal, 'calm');
    assert.ok(against.arousalScore < -0.6, `with baseline ${against.arousalScore}`);
  });

  test('rate alone ×0.7 or ×1.6 moves a typical voice across the thresholds', () => {
    assert.equal(computeArousal(measures({ sps: 4.4 * 0.7 })).arousal, 'calm');
    assert.equal(computeArousal(measures({ sps: 4.4 * 1.6 })).arousal, 'excited');
  });

  test('inside the 90–220 Hz band absolute pitch says nothing: a typical male and female voice score the same', () => {
    const male = computeArousal(measures({ medianHz: 110 }));
    const female = computeArousal(measures({ medianHz: 210 }));
    assert.equal(male.arousalScore, female.arousalScore);
    assert.equal(male.arousal, 'neutral');
  });

  test("pitch far above the speaker's own floor raises the score; pitch near it lowers it", () => {
    const raised = computeArousal(measures({ elevationSt: 8.5 }));
    const flat = computeArousal(measures({ elevationSt: 0.5 }));
    const pitchZ = (r: ReturnType<typeof computeArousal>) => r.terms.find((t) => t.feature === 'pitch')!.z;
    assert.ok(pitchZ(raised) > 0.9 && pitchZ(flat) < -0.5, `${pitchZ(raised)} ${pitchZ(flat)}`);
  });

  test('the floor comparison fades out on very short voiced speech', () => {
    const short = computeArousal(measures({ elevationSt: 8.5, voicedSec: 0.2 }));
    assert.equal(short.terms.find((t) => t.feature === 'pitch')!.z, 0);
  });

  test("with the speaker's baseline a raised pitch counts even inside the band", () => {
    const m = measures({ medianHz: 160 });
    const without = computeArousal(m);
    const withBase = computeArousal(m, { medianHz: 110, voicedSec: 20, syllablesPerSec: 4.4, speechRmsDb: -20 });
    assert.equal(without.arousal, 'neutral');
    assert.ok(withBase.arousalScore > without.arousalScore + 0.2, `${withBase.arousalScore} vs ${without.arousalScore}`);
    assert.equal(withBase.terms.find((t) => t.feature === 'pitch')!.z, 2); // 6.5 st above usual, clamped
  });

  test('a baseline measured on under 3 s of voice is ignored', () => {
    const m = measures({ medianHz: 160 });
    assert.deepEqual(computeArousal(m, { medianHz: 110, voicedSec: 2 }), computeArousal(m));
  });

  test('without pitch (a whisper) the other features decide and the weights still sum to 1', () => {
    const r = computeArousal(measures({ noPitch: true, sps: 6.5 }));
    assert.deepEqual(
      r.terms.map((t) => t.feature),
      ['rate', 'loudness'],
    );
    const sum = r.terms.reduce((a, t) => a + t.weight, 0);
    assert.ok(Math.abs(sum - 1) < 0.01, `weights sum to ${sum}`);
    assert.equal(r.arousal, 'excited');
  });

  test('a rate estimated without a transcript weighs less than a counted one', () => {
    const counted = computeArousal(measures({ sps: 6.5 }));
    const estimated = computeArousal(measures({ sps: 6.5, estimated: true }));
    assert.ok(estimated.arousalScore < counted.arousalScore);
  });

  test('under 0.3 s of speech is neutral with no terms', () => {
    assert.deepEqual(computeArousal(measures({ speechSec: 0.1 })), { arousal: 'neutral', arousalScore: 0, terms: [] });
  });

  test('extreme values stay within -1..1 and every z within -2..2', () => {
    for (const m of [measures({ sps: 80, medianHz: 2000, rangeSt: 60, db: 0 }), measures({ sps: 0.01, medianHz: 20, rangeSt: 0, db: -99 })]) {
      const r = computeArousal(m);
      assert.ok(r.arousalScore >= -1 && r.arousalScore <= 1);
      for (const t of r.terms) assert.ok(t.z >= -2 && t.z <= 2, `${t.feature} ${t.z}`);
    }
  });

  test('the labels follow the documented thresholds and weights', () => {
    assert.ok(EXCITED_THRESHOLD > 0 && CALM_THRESHOLD === -EXCITED_THRESHOLD);
    const sum = Object.values(AROUSAL_WEIGHTS).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9);
  });
});

describe('the running speaker baseline', () => {
  const turn = (medianHz: number, voicedSec: number, sps: number, db: number) => ({
    measures: {
      durationSec: voicedSec * 2,
      speechSec: voicedSec * 1.5,
      pitch: { medianHz, minHz: medianHz / 2, maxHz: medianHz * 2, p10Hz: medianHz * 0.8, p90Hz: medianHz * 1.25, rangeSemitones: 7.7, voicedSec },
      loudness: { rmsDb: db - 3, peakDb: db + 12, speechRmsDb: db },
      rate: { wordsPerSec: sps / 1.4, syllablesPerSec: sps, source: 'transcript' as const },
      pauses: { count: 0, totalSec: 0, longestSec: 0, ratio: 0, source: 'vad' as const },
      text: null,
    },
  });

  test('starts from the first voiced turn and averages later ones by voiced time', () => {
    let b = updateBaseline(undefined, turn(100, 2, 4, -20));
    assert.deepEqual(b, { medianHz: 100, voicedSec: 2, syllablesPerSec: 4, speechRmsDb: -20 });
    b = updateBaseline(b, turn(200, 2, 6, -10));
    assert.ok(b && Math.abs(b.medianHz - Math.sqrt(100 * 200)) < 1e-9, JSON.stringify(b)); // log-average
    assert.equal(b.voicedSec, 4);
    assert.equal(b.syllablesPerSec, 5);
    assert.equal(b.speechRmsDb, -15);
  });

  test('a turn without voice leaves the baseline as it was', () => {
    const b = updateBaseline(undefined, turn(100, 4, 4, -20));
    const silent = { measures: { ...turn(100, 4, 4, -20).measures, pitch: null } };
    assert.equal(updateBaseline(b, silent), b);
    assert.equal(updateBaseline(undefined, silent), undefined);
  });

  test('after a few turns it takes over from the population references', () => {
    let b: SpeakerBaseline | undefined;
    for (let i = 0; i < 3; i++) b = updateBaseline(b, turn(105, 2, 4.4, -20));
    const raised = measures({ medianHz: 150, sps: 5.2 });
    assert.equal(computeArousal(raised).arousal, 'neutral');
    assert.equal(computeArousal(raised, b).arousal, 'excited');
  });
});
