/** Small labelled controls shared by the pages. */
import type { ComponentChildren } from 'preact';

export function Select<T extends string>(props: {
  id: string;
  label: string;
  value: T | string;
  options: readonly T[];
  onChange: (value: T) => void;
  describe?: (value: T) => string;
  testid?: string;
  disabled?: boolean;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select
        id={props.id}
        data-testid={props.testid}
        value={props.value}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.currentTarget.value as T)}
      >
        {props.options.map((o) => (
          <option key={o} value={o}>
            {props.describe ? props.describe(o) : o}
          </option>
        ))}
      </select>
    </div>
  );
}

export function ErrorNote({ children }: { children: ComponentChildren }) {
  if (children === null || children === undefined || children === '') return null;
  return (
    <p role="alert" class="error">
      {children}
    </p>
  );
}

/** A labelled progress bar with its numbers in words for screen readers. */
export function ProgressBar(props: { label: string; value: number; max: number | null; text: string; testid?: string }) {
  return (
    <div class="progress">
      <progress aria-label={props.label} data-testid={props.testid} value={props.max === null ? undefined : props.value} max={props.max ?? undefined} />
      <span>{props.text}</span>
    </div>
  );
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
