import type { SessionDetail as Detail } from '@openecm/contracts';
import { useEffect, useState } from 'react';
import { call } from '../api';
import { Facts, when } from './Facts';


export function SessionDetail({ id }: { id: string }) {
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    call<Detail>(`/api/v1/reports/sessions/${encodeURIComponent(id)}`).then(setDetail, (e: Error) => setError(e.message));
  }, [id]);
  if (error)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  if (!detail) return <p className="loading">Loading…</p>;
  const s = detail.session;
  const facts: Array<[string, string]> = [
    ['Appliance session', s.lsid],
    ['User', s.user ?? '—'],
    ['Endpoint', s.endpoint ?? '—'],
    ['Credential', s.credential ?? '—'],
    ['Vault', s.vault ?? '—'],
    ['Started', when(s.startTime)],
    ['Ended', when(s.endTime)],
    ['Duration', s.duration === null ? '—' : `${s.duration} s`],
    ['Jump group', s.jumpGroupName ?? '—'],
    ['Lease', s.leaseId ?? '—'],
    ['Emergency', s.emergency ? 'yes' : 'no'],
    ['Trace', s.traceId ?? '—'],
  ];
  return (
    <div className="session-detail" data-testid="session-detail">
      <h1>Session {s.id}</h1>
      <Facts facts={facts} />
      <h2>Events</h2>
      <table className="events" data-testid="session-events">
        <thead>
          <tr>
            <th>#</th>
            <th>Time</th>
            <th>Event</th>
            <th>By</th>
            <th>Source</th>
            <th>Credential</th>
            <th>Trace id</th>
            <th>Data</th>
          </tr>
        </thead>
        <tbody>
          {detail.events.map((e, i) => (
            <tr key={e.id} data-event-id={e.id} data-source={e.source}>
              <td>{i + 1}</td>
              <td>{when(e.timestamp)}</td>
              <td>{e.type}</td>
              <td>{[e.performedByType, e.performedBy].filter(Boolean).join(': ')}</td>
              <td>{e.source}</td>
              <td>{e.credential ?? ''}</td>
              <td className="trace" data-testid="trace-id">
                {e.source === 'broker' ? (e.traceId ?? '') : ''}
              </td>
              <td className="data">
                {Object.entries(e.data)
                  .map(([k, v]) => `${k}=${v ?? ''}`)
                  .join(', ')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
