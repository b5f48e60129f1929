/**
 * Server-sent events from a fetch body (https://html.spec.whatwg.org/multipage/server-sent-events.html):
 * lines end in LF, CRLF or CR; `data:` lines of one event are joined with LF; a blank line ends the
 * event; lines starting with `:` are comments (keep-alives). Only what chat completions use.
 */

/** One event: its type (`message` unless an `event:` line says otherwise) and its data. */
export interface SseEvent {
  /** The `event:` field, default `message`. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
}

/** Parses SSE incrementally: feed text, get complete events. */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  /** A CR ended the last chunk: an LF starting the next one belongs to it. */
  private pendingCr = false;

  /** Adds text; returns the events it completed. */
  push(text: string): SseEvent[] {
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (c === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          this.pendingCr = true;
        }
      }
      start = i + 1;
      const ev = this.line(line);
      if (ev) events.push(ev);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** Ends the stream: an event without its final blank line still counts. */
  end(): SseEvent[] {
    const events = this.buffer.length > 0 ? this.push('\n') : [];
    const last = this.line('');
    if (last) events.push(last);
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = '';
        return undefined;
      }
      const ev = { event: this.event || 'message', data: this.data.join('\n') };
      this.data = [];
      this.event = '';
      return ev;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    return undefined;
  }
}
