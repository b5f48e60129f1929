/** The API's public names the pickers offer (as OpenAI documents them). */

/** Every OpenAI voice name; Parley maps each to a voice of its engine. */
export const VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'onyx', 'nova', 'sage', 'shimmer', 'verse', 'marin', 'cedar'] as const;

/** `/v1/audio/speech` `response_format`. */
export const SPEECH_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const;

/** Chat `audio.format`: pcm16 is the one that streams. */
export const CHAT_AUDIO_FORMATS = ['pcm16', 'wav', 'mp3', 'opus', 'flac', 'aac'] as const;

export const CHAT_MODEL = 'gpt-4o-mini-audio-preview';
export const SPEECH_MODELS = ['tts-1', 'tts-1-hd', 'gpt-4o-mini-tts'] as const;
export const TRANSCRIPTION_MODELS = ['whisper-1', 'gpt-4o-mini-transcribe', 'gpt-4o-transcribe'] as const;
