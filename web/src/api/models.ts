/** The model admin endpoints (a Parley extension; see src/http/routes/parley-models.ts). */
import type OpenAI from 'openai';

export interface CapabilityWire {
  capability: string;
  configured: string;
  engine: string;
  model: string | null;
  state: 'ready' | 'missing' | 'upstream';
  detail: string;
  /** Why this engine serves it (`auto: the best engine whose model is installed …`). */
  reason: string;
  pull: string[];
  upgrades: Array<{ model: string; note: string }>;
}

export interface ModelWire {
  name: string;
  kind: string | null;
  engine: string | null;
  description: string;
  licence: string | null;
  catalogued: boolean;
  installed: boolean;
  partial: boolean;
  size_bytes: number | null;
  size_on_disk_bytes: number;
  pulling: { bytes_done: number; bytes_total: number | null; file: string } | null;
}

export interface ModelsWire {
  offline: boolean;
  capabilities: CapabilityWire[];
  data: ModelWire[];
}

export interface PullEventWire {
  model: string;
  status: 'downloading' | 'completed';
  bytes_done: number;
  bytes_total: number | null;
  file: string;
}

export function listModels(client: OpenAI): Promise<ModelsWire> {
  return client.get<ModelsWire>('/parley/models');
}

/** Starts (or joins) a pull and yields its progress; throws the server's error when it fails. */
export async function* pullModel(client: OpenAI, name: string, signal?: AbortSignal): AsyncGenerator<PullEventWire> {
  const stream = (await client.post(`/parley/models/${encodeURIComponent(name)}/pull`, {
    body: {},
    stream: true,
    signal,
  })) as unknown as AsyncIterable<PullEventWire>;
  for await (const event of stream) yield event;
}

export function cancelPull(client: OpenAI, name: string): Promise<unknown> {
  return client.delete(`/parley/models/${encodeURIComponent(name)}/pull`);
}
