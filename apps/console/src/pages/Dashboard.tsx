import type { ReportCard, ReportSummary } from '@openecm/contracts';
import { BarChart, LineChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useMemo, useRef, useState } from 'react';
import { call, query } from '../api';
import { CARD_TITLES, REPORT_CARDS, cardGridQuery } from '../contract-values';
import { navigate } from '../router';

echarts.use([LineChart, BarChart, GridComponent, TooltipComponent, LegendComponent, DataZoomComponent, CanvasRenderer]);

const RANGES = {
  '24h': { label: 'Last 24 hours', hours: 24 },
  '7d': { label: 'Last 7 days', hours: 7 * 24 },
  '30d': { label: 'Last 30 days', hours: 30 * 24 },
  '90d': { label: 'Last 90 days', hours: 90 * 24 },
} as const;
type RangeKey = keyof typeof RANGES | 'custom';

/** `datetime-local` values are local time without a zone; the API takes ISO instants. */
const toLocalInput = (iso: string) => {
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const fromLocalInput = (value: string) => new Date(value).toISOString();

function rangeOf(key: RangeKey, custom: { from: string; to: string }): { from: string; to: string } {
  if (key === 'custom') return custom;
  // whole minutes, so a card and the grid it opens ask for the same range
  const to = new Date(Math.ceil(Date.now() / 60_000) * 60_000);
  return { from: new Date(to.getTime() - RANGES[key].hours * 3_600_000).toISOString(), to: to.toISOString() };
}

function SeriesChart({ summary }: { summary: ReportSummary }) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!element.current) return undefined;
    const chart = echarts.init(element.current);
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, []);
  useEffect(() => {
    const chart = element.current ? echarts.getInstanceByDom(element.current) : undefined;
    if (!chart) return;
    const label = (bucket: string) => {
      const d = new Date(bucket);
      return summary.interval === 'hour'
        ? d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
        : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
    };
    chart.setOption(
      {
        animation: false,
        tooltip: { trigger: 'axis' },
        legend: { data: ['Sessions', 'Injections'], top: 0 },
        grid: { left: 48, right: 24, top: 36, bottom: 48 },
        xAxis: { type: 'category', data: summary.series.map((p) => label(p.bucket)) },
        yAxis: { type: 'value', minInterval: 1 },
        dataZoom: summary.series.length > 48 ? [{ type: 'inside' }, { type: 'slider', height: 16, bottom: 8 }] : [],
        series: [
          { name: 'Sessions', type: 'bar', data: summary.series.map((p) => p.sessions), itemStyle: { color: '#2563eb' } },
          { name: 'Injections', type: 'line', smooth: true, data: summary.series.map((p) => p.injections), itemStyle: { color: '#d97706' } },
        ],
      },
      true,
    );
  }, [summary]);
  return <div ref={element} className="chart" data-testid="series-chart" />;
}

function Top({ title, entries }: { title: string; entries: ReportSummary['top']['users'] }) {
  return (
    <section className="top-list">
      <h3>{title}</h3>
      {entries.length === 0 ? (
        <p className="muted">none in this range</p>
      ) : (
        <ol>
          {entries.map((e) => (
            <li key={e.value}>
              <span>{e.value}</span>
              <b>{e.count}</b>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function Dashboard() {
  const [rangeKey, setRangeKey] = useState<RangeKey>('7d');
  const [custom, setCustom] = useState(() => rangeOf('7d', { from: '', to: '' }));
  // a preset ends now, taken when it is chosen
  const range = useMemo(() => rangeOf(rangeKey, custom), [rangeKey, custom]);
  const [summary, setSummary] = useState<ReportSummary | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    setError(null);
    call<ReportSummary>(`/api/v1/reports/summary?${query(range)}`).then(
      (s) => current && setSummary(s),
      (e: Error) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, [range]);

  const open = (card: ReportCard) => {
    const { grid, query: q } = cardGridQuery(card, range.from, range.to);
    navigate(`/console/${grid}?${new URLSearchParams({ ...q, card })}`);
  };

  return (
    <div className="dashboard">
      <div className="toolbar">
        <h1>Privileged remote access</h1>
        <label>
          Range{' '}
          <select value={rangeKey} onChange={(e) => setRangeKey(e.target.value as RangeKey)} data-testid="range">
            {Object.entries(RANGES).map(([key, r]) => (
              <option key={key} value={key}>
                {r.label}
              </option>
            ))}
            <option value="custom">Custom…</option>
          </select>
        </label>
        {rangeKey === 'custom' ? (
          <>
            <label>
              From{' '}
              <input type="datetime-local" value={toLocalInput(custom.from)} onChange={(e) => e.target.value && setCustom({ ...custom, from: fromLocalInput(e.target.value) })} />
            </label>
            <label>
              To <input type="datetime-local" value={toLocalInput(custom.to)} onChange={(e) => e.target.value && setCustom({ ...custom, to: fromLocalInput(e.target.value) })} />
            </label>
          </>
        ) : null}
      </div>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      {summary ? (
        <>
          <div className="cards">
            {REPORT_CARDS.map((card) => (
              <button type="button" key={card} className={`card card-${card}`} data-testid={`card-${card}`} onClick={() => open(card)}>
                <span className="card-title">{CARD_TITLES[card]}</span>
                <span className="card-value">{summary.cards[card].toLocaleString()}</span>
              </button>
            ))}
          </div>
          <section className="panel">
            <h2>
              Sessions and injections per {summary.interval}
            </h2>
            <SeriesChart summary={summary} />
          </section>
          <div className="tops">
            <Top title="Top endpoints" entries={summary.top.endpoints} />
            <Top title="Top users" entries={summary.top.users} />
            <Top title="Top credentials" entries={summary.top.credentials} />
          </div>
        </>
      ) : error ? null : (
        <p className="loading">Loading…</p>
      )}
    </div>
  );
}
