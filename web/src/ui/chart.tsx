/**
 * A small SVG chart: bars or lines over time buckets, several series, with the numbers also in a
 * table for screen readers and for anyone who wants them exact. Scales with its container.
 */

export interface Series {
  name: string;
  values: readonly number[];
  /** A CSS colour variable name defined in styles.css (`--c1` …). */
  color: string;
  /** Drawn as a line over the bars (e.g. a price to compare with). */
  line?: boolean;
}

const W = 640;
const H = 220;
const PAD = { left: 64, right: 12, top: 14, bottom: 30 };

/** A round upper bound for the axis: 1, 2 or 5 × 10^n. */
export function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

export function Chart(props: { id: string; title: string; labels: readonly string[]; series: readonly Series[]; format: (v: number) => string }) {
  const { labels, series, format } = props;
  const n = labels.length;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, n);
  const bars = series.filter((s) => !s.line);
  const lines = series.filter((s) => s.line);
  const barW = (slot * 0.8) / Math.max(1, bars.length);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const every = Math.max(1, Math.ceil(n / 7));
  const total = (s: Series) => s.values.reduce((a, b) => a + b, 0);

  return (
    <figure class="chart card" data-testid="usage-chart" aria-labelledby={`${props.id}-title`}>
      <figcaption id={`${props.id}-title`}>
        <strong>{props.title}</strong>
        <span class="legend">
          {series.map((s) => (
            <span key={s.name}>
              <i class="swatch" style={{ background: `var(${s.color})` }} aria-hidden="true" />
              {s.name}: {format(total(s))}
            </span>
          ))}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" preserveAspectRatio="xMidYMid meet">
        <title>{`${props.title}: ${series.map((s) => `${s.name} ${format(total(s))}`).join(', ')} (the table below has each period)`}</title>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(max * f)} y2={y(max * f)} class="grid" />
            <text x={PAD.left - 6} y={y(max * f) + 4} text-anchor="end" class="axis">
              {format(max * f)}
            </text>
          </g>
        ))}
        {bars.map((s, si) =>
          s.values.map((v, i) => (
            <rect
              key={`${s.name}-${i}`}
              x={PAD.left + i * slot + slot * 0.1 + si * barW}
              y={y(v)}
              width={Math.max(1, barW - 1)}
              height={Math.max(0, PAD.top + plotH - y(v))}
              style={{ fill: `var(${s.color})` }}
            >
              <title>
                {labels[i]}: {s.name} {format(v)}
              </title>
            </rect>
          )),
        )}
        {lines.map((s) => (
          <polyline
            key={s.name}
            fill="none"
            stroke-width="2"
            style={{ stroke: `var(${s.color})` }}
            points={s.values.map((v, i) => `${PAD.left + (i + 0.5) * slot},${y(v)}`).join(' ')}
          />
        ))}
        {labels.map((l, i) =>
          i % every === 0 ? (
            <text key={l + i} x={PAD.left + (i + 0.5) * slot} y={H - 8} text-anchor="middle" class="axis">
              {l}
            </text>
          ) : null,
        )}
      </svg>
      <details>
        <summary>Table</summary>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Period</th>
                {series.map((s) => (
                  <th key={s.name} scope="col">
                    {s.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {labels.map((l, i) => (
                <tr key={l + i}>
                  <th scope="row">{l}</th>
                  {series.map((s) => (
                    <td key={s.name}>{format(s.values[i] ?? 0)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
