import type { LlmMessage } from '../../engines/llm/types.js';
import type { Understanding } from '../understand.js';
import type { ChatTurnMessage } from './types.js';

/**
 * What the language model is told about audio. A user's audio part becomes
 *   [audio transcript: "…"] [voice: negative sentiment (-0.62); excited: fast speech …]
 * so the model can answer both what was said and how it was said. Documented in README.md.
 */
export function audioPartText(u: Understanding): string {
  const words = u.transcript.text.trim();
  const said = words.length > 0 ? `[audio transcript: "${words}"]` : '[audio: no speech heard]';
  return `${said} ${u.description}`;
}

/** Guidance added to the system prompt; only the parts that apply to this turn. */
export function systemGuidance(options: { hasAudioIn: boolean; speaks: boolean }): string {
  const lines: string[] = [];
  if (options.hasAudioIn) {
    lines.push(
      'Some user messages were spoken. Each spoken part appears as [audio transcript: "..."] followed by [voice: ...], a description of how it was said (sentiment, calm or excited, pace, pitch, pauses). Use it when asked how the speaker sounded or felt.',
    );
  }
  if (options.speaks) {
    lines.push('Your reply will be spoken aloud: answer in plain, natural sentences, without markdown, lists, emoji or code.');
  }
  return lines.join(' ');
}

/**
 * The conversation as the language model sees it: system/developer messages first (merged into
 * one, as many chat templates allow only one), audio parts replaced by their understanding,
 * assistant audio replaced by its stored transcript (done by the caller into `parts`).
 */
export function buildLlmMessages(
  messages: readonly ChatTurnMessage[],
  understood: ReadonlyMap<string, Understanding>,
  options: { speaks: boolean },
): { messages: LlmMessage[]; audioText: string[] } {
  const audioText: string[] = [];
  const render = (m: ChatTurnMessage): string =>
    m.parts
      .map((p) => {
        if (p.type === 'text') return p.text;
        const text = audioPartText(understood.get(p.digest)!);
        audioText.push(text);
        return text;
      })
      .join('\n');
  const systemTexts: string[] = [];
  const rest: LlmMessage[] = [];
  let hasAudioIn = false;
  for (const m of messages) {
    if (m.parts.some((p) => p.type === 'audio')) hasAudioIn = true;
    if (m.role === 'system') {
      systemTexts.push(render(m));
      continue;
    }
    rest.push({
      role: m.role,
      content: render(m),
      ...(m.toolCalls ? { toolCalls: m.toolCalls } : {}),
      ...(m.toolCallId ? { toolCallId: m.toolCallId } : {}),
    });
  }
  const guidance = systemGuidance({ hasAudioIn, speaks: options.speaks });
  if (guidance) systemTexts.push(guidance);
  const out: LlmMessage[] = systemTexts.length > 0 ? [{ role: 'system', content: systemTexts.join('\n\n') }, ...rest] : rest;
  return { messages: out, audioText };
}
