import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format';

/**
 * A parsed scrape of `/metrics` (the npm `parse-prometheus-text-format` parser, prom2json's shape).
 * That parser folds a histogram with labels into one unlabelled series (its `flattenMetrics`), so
 * histogram families are also read as their plain `_count` / `_sum` / `_bucket` series: their
 * `# HELP`/`# TYPE` lines are kept aside (types in `types`) and the samples parse as untyped.
 */
export class Scrape {
  constructor(
    readonly families: PromFamily[],
    readonly types: ReadonlyMap<string, string>,
  ) {}

  static parse(text: string): Scrape {
    const types = new Map<string, string>();
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1]!, m[2]!);
    const histograms = new Set([...types].filter(([, t]) => t === 'histogram').map(([n]) => n));
    const plain = text
      .split('\n')
      .filter((line) => !/^# (HELP|TYPE) (\S+)/.test(line) || !histograms.has(line.split(' ')[2]!))
      .join('\n');
    return new Scrape(parsePrometheusTextFormat(plain), types);
  }

  family(name: string): PromFamily | undefined {
    return this.families.find((f) => f.name === name);
  }

  /** The sum of a counter/gauge's series whose labels include `labels` (a histogram: its `_count`); 0 when absent. */
  value(name: string, labels: Record<string, string> = {}): number {
    const family = this.types.get(name) === 'histogram' ? `${name}_count` : name;
    let total = 0;
    for (const m of this.family(family)?.metrics ?? []) {
      if (Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)) total += Number(m.value ?? 0);
    }
    return total;
  }
}
