/**
 * Worker thread of the flite engine: one fresh WebAssembly instance of flite per job, run on the
 * in-memory WASI host, its WAV output returned as PcmAudio (moved, not copied).
 */
import { resample } from '../../../audio/resample.js';
import type { PcmAudio } from '../../../audio/types.js';
import { pcm16WavToPcm } from '../wav-output.js';
import { serveJobs } from '../worker-pool/serve.js';
import { type FliteJob, type FliteWorkerData, OUTPUT_PATH } from './job.js';
import { MemoryWasi } from './memory-wasi.js';

serveJobs<FliteJob, PcmAudio>((data) => {
  const { module, voiceFiles } = data as FliteWorkerData;
  return (job) => {
    const files: Record<string, Uint8Array> = {};
    if (job.voiceFile) {
      const voice = voiceFiles[job.voiceFile];
      if (!voice) throw new Error(`unknown voice file ${job.voiceFile}`);
      files[job.voiceFile] = voice;
    }
    const wasi = new MemoryWasi({ args: ['flite', ...job.args], files });
    const run = wasi.run(module);
    const wav = wasi.readFile(OUTPUT_PATH);
    if (run.exitCode !== 0 || !wav) {
      throw new Error(`flite exited with code ${run.exitCode} and ${wav ? 'output' : 'no output'}: ${run.stderr.trim().slice(0, 500)}`);
    }
    let pcm = pcm16WavToPcm(wav);
    const target = job.outputRate ?? pcm.sampleRate;
    if (job.playbackRate && job.playbackRate !== 1 && pcm.samples.length > 0) {
      // Rates in steps of 100 Hz keep the resampler's phase table small (16000:18400 = 40:46).
      const played = Math.max(100, Math.round((pcm.sampleRate * job.playbackRate) / 100) * 100);
      pcm = resample({ samples: pcm.samples, sampleRate: played }, target);
    } else if (target !== pcm.sampleRate) {
      pcm = pcm.samples.length > 0 ? resample(pcm, target) : { samples: pcm.samples, sampleRate: target };
    }
    return { result: pcm, transfer: [pcm.samples.buffer as ArrayBuffer] };
  };
});
