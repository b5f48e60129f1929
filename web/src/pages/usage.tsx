/** Usage: the key's traffic over time and what it would have cost at OpenAI (data: ../api/usage.ts). */
import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage } from '../api/client.js';
import { formatUsd } from '../api/prices.js';
import { type KeyUsage, loadPerKeyUsage, loadUsageSeries, RANGES, totalOf, type UsageBucket, type UsageRange } from '../api/usage.js';
import { Chart } from '../ui/chart.js';
import { ErrorNote, Select } from '../ui/fields.js';

const count = (v: number) => (v >= 10_000 ? `${(v / 1000).toFixed(0)}k` : v >= 1000 ? `${(v / 1000).toFixed(1)}k` : `${Math.round(v * 10) / 10}`);
const minutes = (v: number) => `${v < 10 ? v.toFixed(1) : Math.round(v)} min`;

function labelOf(range: UsageRange, start: number): string {
  const d = new Date(start * 1000);
  return range.bucketSec < 86_400 ? `${String(d.getHours()).padStart(2, '0')}:00` : `${d.getMonth() + 1}/${d.getDate()}`;
}

export function UsagePage() {
  const [rangeId, setRangeId] = useState<UsageRange['id']>('24h');
  const [buckets, setBuckets] = useState<UsageBucket[] | null>(null);
  const [perKey, setPerKey] = useState<KeyUsage[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // For an admin: whose traffic the charts show ('' = the admin's own key, 'all', or a key id).
  const [keyId, setKeyId] = useState('');
  const range = RANGES.find((r) => r.id === rangeId)!;

  useEffect(() => {
    let live = true;
    loadPerKeyUsage(api(), range).then((rows) => live && setPerKey(rows));
    return () => {
      live = false;
    };
  }, [rangeId]);

  useEffect(() => {
    let live = true;
    setError(null);
    loadUsageSeries(api(), range, undefined, keyId || undefined)
      .then((b) => live && setBuckets(b))
      .catch((e: unknown) => live && setError(errorMessage(e)));
    return () => {
      live = false;
    };
  }, [rangeId, keyId]);

  const labels = buckets?.map((b) => labelOf(range, b.start)) ?? [];
  const total = buckets ? totalOf(buckets) : null;
  const hasParley = total?.parleyUsd !== null && total?.parleyUsd !== undefined;

  return (
    <div class="usage">
      <div class="row wrap">
        <Select
          id="usage-range"
          label="Period"
          value={rangeId}
          options={RANGES.map((r) => r.id)}
          describe={(id) => RANGES.find((r) => r.id === id)!.label}
          onChange={(id) => setRangeId(id)}
        />
        {perKey ? (
          <Select
            id="usage-key"
            testid="usage-key"
            label="Key"
            value={keyId}
            options={['', 'all', ...perKey.map((k) => k.apiKeyId).filter((id) => id.startsWith('key_'))]}
            describe={(id) => (id === '' ? 'this key' : id === 'all' ? 'every key' : id)}
            onChange={(id) => setKeyId(id)}
          />
        ) : null}
      </div>
      <ErrorNote>{error}</ErrorNote>
      {total ? (
        <dl class="totals card" aria-label="Totals for the period">
          <div>
            <dt>Requests</dt>
            <dd>{total.requests}</dd>
          </div>
          <div>
            <dt>Audio in / out</dt>
            <dd>
              {minutes(total.audioInSec / 60)} / {minutes(total.audioOutSec / 60)}
            </dd>
          </div>
          <div>
            <dt>Tokens in / out</dt>
            <dd>
              {count(total.promptTokens)} / {count(total.completionTokens)}
            </dd>
          </div>
          <div>
            <dt>At OpenAI's price</dt>
            <dd>{formatUsd(total.openaiUsd)}</dd>
          </div>
          <div>
            <dt>Parley's own cost</dt>
            <dd>{hasParley ? formatUsd(total.parleyUsd!) : 'not reported by this server'}</dd>
          </div>
        </dl>
      ) : null}
      {buckets ? (
        <div class="charts">
          <Chart
            id="chart-requests"
            title="Requests"
            labels={labels}
            series={[{ name: 'requests', values: buckets.map((b) => b.requests), color: '--c1' }]}
            format={count}
          />
          <Chart
            id="chart-audio"
            title="Audio minutes"
            labels={labels}
            series={[
              { name: 'heard', values: buckets.map((b) => b.audioInSec / 60), color: '--c2' },
              { name: 'spoken', values: buckets.map((b) => b.audioOutSec / 60), color: '--c3' },
            ]}
            format={minutes}
          />
          <Chart
            id="chart-tokens"
            title="Tokens"
            labels={labels}
            series={[
              { name: 'in', values: buckets.map((b) => b.promptTokens), color: '--c1' },
              { name: 'out', values: buckets.map((b) => b.completionTokens), color: '--c4' },
            ]}
            format={count}
          />
          <Chart
            id="chart-cost"
            title="Cost"
            labels={labels}
            series={[
              { name: "at OpenAI's list price", values: buckets.map((b) => b.openaiUsd), color: '--c5' },
              ...(hasParley ? [{ name: 'on Parley', values: buckets.map((b) => b.parleyUsd ?? 0), color: '--c2', line: true }] : []),
            ]}
            format={(v) => formatUsd(v)}
          />
        </div>
      ) : error ? null : (
        <p aria-live="polite">Loading…</p>
      )}
      {perKey ? (
        <section class="card" aria-labelledby="per-key" data-testid="usage-per-key">
          <h2 id="per-key">Per key</h2>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Requests</th>
                  <th scope="col">Tokens in</th>
                  <th scope="col">Tokens out</th>
                  <th scope="col">Audio tokens in / out</th>
                  <th scope="col">At OpenAI's price</th>
                  <th scope="col">Parley's own cost</th>
                </tr>
              </thead>
              <tbody>
                {perKey.map((k) => (
                  <tr key={k.apiKeyId} data-key={k.apiKeyId}>
                    <th scope="row">{k.apiKeyId}</th>
                    <td>{k.requests}</td>
                    <td>{count(k.inputTokens)}</td>
                    <td>{count(k.outputTokens)}</td>
                    <td>
                      {count(k.inputAudioTokens)} / {count(k.outputAudioTokens)}
                    </td>
                    <td>{k.openaiUsd === null ? '—' : formatUsd(k.openaiUsd)}</td>
                    <td>{k.costUsd === null ? '—' : formatUsd(k.costUsd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}
    </div>
  );
}
