/**
 * The microphone, as float samples. An AudioWorklet taps the stream (ScriptProcessor is
 * deprecated); its code is a Blob URL, so the page needs no extra file and no other origin.
 * The context runs at 16 kHz where the browser allows it: that is what the recogniser wants, and
 * the browser's resampler is better than anything we would write here.
 */

const TAP_SOURCE = `
class ParleyTap extends AudioWorkletProcessor {
  constructor() { super(); this.buf = new Float32Array(1024); this.n = 0; }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (ch) {
      for (let i = 0; i < ch.length; i++) {
        this.buf[this.n++] = ch[i];
        if (this.n === this.buf.length) { this.port.postMessage(this.buf); this.buf = new Float32Array(1024); this.n = 0; }
      }
    }
    return true;
  }
}
registerProcessor('parley-tap', ParleyTap);
`;

let tapUrl: string | undefined;

/** An open microphone. `close()` releases it (the browser's recording indicator goes off). */
export class Microphone {
  private chunks: Float32Array[] = [];
  private recording = false;
  private samples = 0;

  private constructor(
    private readonly stream: MediaStream,
    private readonly context: AudioContext,
    private readonly nodes: AudioNode[],
    /** Every block of samples, recorded or not (the hands-free VAD listens here). */
    private readonly onSamples: (samples: Float32Array) => void,
  ) {}

  /** Asks for the microphone (the browser prompts the first time). */
  static async open(onSamples: (samples: Float32Array) => void = () => {}): Promise<Microphone> {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('This browser gives no microphone access here (it needs https or localhost).');
    let context: AudioContext;
    try {
      context = new AudioContext({ sampleRate: 16_000 });
    } catch {
      context = new AudioContext();
    }
    let stream: MediaStream | undefined;
    try {
      // Everything slow first, the microphone last: the first syllable must not fall in the gap
      // between the device opening and the tap being connected.
      tapUrl ??= URL.createObjectURL(new Blob([TAP_SOURCE], { type: 'text/javascript' }));
      await context.audioWorklet.addModule(tapUrl);
      const tap = new AudioWorkletNode(context, 'parley-tap', { numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit' });
      await context.resume();
      let mic: Microphone | undefined;
      tap.port.onmessage = (event: MessageEvent<Float32Array>) => mic?.receive(event.data);
      stream = await navigator.mediaDevices.getUserMedia({
        // Echo cancellation keeps the hands-free mode from hearing the replies; the rest would only
        // change what the recogniser gets.
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: false, autoGainControl: false },
      });
      const source = context.createMediaStreamSource(stream);
      source.connect(tap);
      // No block can arrive before this line runs (messages are tasks), nor before the caller's
      // startRecording() right after the await.
      mic = new Microphone(stream, context, [source, tap], onSamples);
      return mic;
    } catch (error) {
      for (const track of stream?.getTracks() ?? []) track.stop();
      await context.close().catch(() => {});
      throw error;
    }
  }

  /** Sample rate of what is delivered. */
  get sampleRate(): number {
    return this.context.sampleRate;
  }

  /** Seconds recorded since `startRecording`. */
  get recordedSec(): number {
    return this.samples / this.context.sampleRate;
  }

  startRecording(): void {
    this.chunks = [];
    this.samples = 0;
    this.recording = true;
  }

  /** The samples recorded since `startRecording`. */
  stopRecording(): Float32Array {
    this.recording = false;
    const out = new Float32Array(this.samples);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    this.chunks = [];
    return out;
  }

  async close(): Promise<void> {
    this.recording = false;
    for (const node of this.nodes) node.disconnect();
    for (const track of this.stream.getTracks()) track.stop();
    await this.context.close().catch(() => {});
  }

  private receive(block: Float32Array): void {
    if (this.recording) {
      this.chunks.push(block);
      this.samples += block.length;
    }
    this.onSamples(block);
  }
}

/**
 * Any audio file the browser can decode → 16 kHz mono samples (what the API's recogniser wants;
 * chat accepts only wav and mp3, so other formats are converted here).
 */
export async function decodeToMono16k(file: Blob): Promise<Float32Array> {
  const bytes = await file.arrayBuffer();
  const probe = new OfflineAudioContext(1, 1, 16_000);
  const decoded = await probe.decodeAudioData(bytes);
  const length = Math.max(1, Math.ceil(decoded.duration * 16_000));
  const offline = new OfflineAudioContext(1, length, 16_000);
  const source = offline.createBufferSource();
  source.buffer = decoded;
  source.connect(offline.destination);
  source.start();
  const rendered = await offline.startRendering();
  return rendered.getChannelData(0).slice();
}
