import type { ApprovalStatus, ApprovalView, ConsolePerson } from '@openecm/contracts';
import { AllCommunityModule, ModuleRegistry, themeQuartz, type ColDef } from 'ag-grid-community';
import { AgGridReact } from 'ag-grid-react';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApiProblem, call, query } from '../api';
import { APPROVAL_STATUSES, MAX_APPROVALS } from '../contract-values';
import { Facts, when } from './Facts';

ModuleRegistry.registerModules([AllCommunityModule]);

type Decision = 'approve' | 'deny';

const formatTime = (p: { value: unknown }) => (typeof p.value === 'string' && p.value ? new Date(p.value).toLocaleString() : '');

const STATUS_LABELS: Readonly<Record<ApprovalStatus, string>> = {
  pending: 'Waiting for me',
  approved: 'Approved',
  denied: 'Denied',
  expired: 'Expired',
  revoked: 'Revoked',
};

/** The API's problem as a person reads it: the detail, and what was wrong with which field. */
function problemText(error: unknown): string {
  if (!(error instanceof ApiProblem)) return error instanceof Error ? error.message : String(error);
  const fields = (error.problem.errors ?? []).map((e) => `${e.field}: ${e.message}`);
  return [error.message, ...fields].join(' — ');
}

/** The list a person sees: the pending requests they may still decide, or the recent ones with another status. */
export function approvalsPath(status: ApprovalStatus, approver: string): string {
  return `/api/v1/approvals?${query({ status, approver: status === 'pending' ? approver : undefined, limit: status === 'pending' ? MAX_APPROVALS : 50 })}`;
}

function ApprovalDetail({
  approval,
  person,
  onDecided,
}: {
  approval: ApprovalView;
  person: ConsolePerson;
  onDecided: (after: ApprovalView, decision: Decision) => void;
}) {
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const pending = approval.status === 'pending';

  const decide = async (decision: Decision) => {
    setBusy(true);
    setError(null);
    try {
      const body = { approver: person.name, decision, ...(comment.trim() ? { comment: comment.trim() } : {}) };
      const after = await call<ApprovalView>(`/api/v1/approvals/${encodeURIComponent(approval.approvalId)}/decision`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      setComment('');
      onDecided(after, decision);
    } catch (e) {
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };

  const facts: Array<[string, string]> = [
    ['Status', approval.status],
    ['Requester', approval.user],
    ['Endpoint', approval.endpoint],
    ['Credential', approval.credentialName],
    ['Vault', approval.vault],
    ['Policy', approval.policy],
    ['Reason', approval.reason ?? '—'],
    ['Approvals', `${approval.approvals} of ${approval.required}`],
    ['Approver groups', approval.approverGroups.join(', ')],
    ['Appliance session', approval.sessionId],
    ['Requested', when(approval.createdAt)],
    [pending ? 'Expires' : approval.status === 'approved' ? 'Usable until' : 'Expiry', when(approval.expiresAt)],
    ['Decided', when(approval.decidedAt)],
  ];

  return (
    <section className="panel approval-detail" data-testid="approval-detail" data-approval-id={approval.approvalId}>
      <h2>
        {approval.user} asks for {approval.credentialName} on {approval.endpoint}
      </h2>
      <Facts facts={facts} />
      <h3>Decisions</h3>
      {approval.decisions.length === 0 ? (
        <p className="muted">No decision yet.</p>
      ) : (
        <table className="events" data-testid="approval-decisions">
          <thead>
            <tr>
              <th>Time</th>
              <th>Approver</th>
              <th>Decision</th>
              <th>Counted for</th>
              <th>Comment</th>
            </tr>
          </thead>
          <tbody>
            {approval.decisions.map((d) => (
              <tr key={`${d.approver}-${d.at}`}>
                <td>{when(d.at)}</td>
                <td>{d.approver}</td>
                <td>{d.decision === 'approve' ? 'approved' : 'denied'}</td>
                <td>{d.group ?? '—'}</td>
                <td>{d.comment ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {pending ? (
        <div className="decide">
          <label>
            Comment (optional)
            <textarea data-testid="decision-comment" maxLength={1000} rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
          </label>
          <div className="decide-buttons">
            <button type="button" className="approve" data-testid="approve" disabled={busy} onClick={() => void decide('approve')}>
              Approve
            </button>
            <button type="button" className="deny" data-testid="deny" disabled={busy} onClick={() => void decide('deny')}>
              Deny
            </button>
            <span className="muted">You decide as {person.name}.</span>
          </div>
        </div>
      ) : null}
      {error ? (
        <p className="error" role="alert" data-testid="decision-error">
          {error}
        </p>
      ) : null}
    </section>
  );
}

/** Approval requests for a person with the approver role, who decides as themselves. */
export function Approvals({ person }: { person: ConsolePerson }) {
  const [status, setStatus] = useState<ApprovalStatus>('pending');
  const [rows, setRows] = useState<ApprovalView[] | null>(null);
  const [selected, setSelected] = useState<ApprovalView | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const path = approvalsPath(status, person.name);

  const load = useCallback(async () => {
    try {
      const res = await call<{ approvals: ApprovalView[] }>(path);
      setRows(res.approvals);
      setError(null);
    } catch (e) {
      setError(problemText(e));
    }
  }, [path]);

  useEffect(() => {
    setRows(null);
    setSelected(null);
    void load();
  }, [load]);

  const select = async (row: ApprovalView | undefined) => {
    setNotice(null);
    if (!row) return setSelected(null);
    setSelected(row);
    // the request as it is now: another approver may have decided since the list was read
    try {
      setSelected(await call<ApprovalView>(`/api/v1/approvals/${encodeURIComponent(row.approvalId)}`));
    } catch (e) {
      setError(problemText(e));
    }
  };

  const columnDefs = useMemo<ColDef<ApprovalView>[]>(
    () => [
      { field: 'user', headerName: 'Requester', colId: 'user' },
      { field: 'endpoint', headerName: 'Endpoint', colId: 'endpoint' },
      { field: 'credentialName', headerName: 'Credential', colId: 'credential' },
      { field: 'vault', headerName: 'Vault', colId: 'vault' },
      { field: 'policy', headerName: 'Policy', colId: 'policy' },
      { field: 'reason', headerName: 'Reason', colId: 'reason', minWidth: 160 },
      { colId: 'approvals', headerName: 'Approvals', valueGetter: (p) => (p.data ? `${p.data.approvals}/${p.data.required}` : ''), maxWidth: 130 },
      { field: 'createdAt', headerName: 'Created', colId: 'created', valueFormatter: formatTime, minWidth: 180, sort: 'desc' },
      { field: 'expiresAt', headerName: status === 'approved' ? 'Usable until' : 'Expires', colId: 'expires', valueFormatter: formatTime, minWidth: 180 },
      ...(status === 'pending' ? [] : [{ field: 'decidedAt', headerName: 'Decided', colId: 'decided', valueFormatter: formatTime, minWidth: 180 } as ColDef<ApprovalView>]),
    ],
    [status],
  );

  return (
    <div className="approvals-page" data-testid="approvals">
      <div className="toolbar">
        <h1>Approvals</h1>
        <div className="tabs" role="tablist">
          {APPROVAL_STATUSES.map((s) => (
            <button key={s} type="button" role="tab" aria-selected={s === status} className={s === status ? 'tab active' : 'tab'} data-testid={`tab-${s}`} onClick={() => setStatus(s)}>
              {STATUS_LABELS[s]}
            </button>
          ))}
        </div>
        <span className="muted" data-testid="approval-count">
          {rows ? `${rows.length} ${status === 'pending' ? 'waiting for you' : status}` : ''}
        </span>
        <button type="button" data-testid="refresh" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      <p className="api-query">
        API: <code data-testid="api-query">{`GET ${path}`}</code>
      </p>
      {error ? (
        <p className="error" role="alert" data-testid="approvals-error">
          {error}
        </p>
      ) : null}
      {notice ? (
        <p className="notice" role="status" data-testid="decision-notice">
          {notice}
        </p>
      ) : null}
      <div className="grid approvals-grid" data-testid="grid-approvals">
        <AgGridReact<ApprovalView>
          theme={themeQuartz}
          rowData={rows ?? []}
          loading={rows === null}
          columnDefs={columnDefs}
          defaultColDef={{ resizable: true, minWidth: 110, flex: 1, sortable: true }}
          rowSelection={{ mode: 'singleRow', checkboxes: false, enableClickSelection: true }}
          suppressColumnVirtualisation
          overlayNoRowsTemplate={status === 'pending' ? 'Nothing waits for your decision.' : 'No requests.'}
          getRowId={(p) => p.data.approvalId}
          onSelectionChanged={(e) => {
            // a refreshed list drops a decided request: its detail and the outcome stay in view
            if (e.source === 'rowDataChanged' || e.source === 'gridInitializing') return;
            void select(e.api.getSelectedRows()[0]);
          }}
        />
      </div>
      {selected ? (
        <ApprovalDetail
          key={selected.approvalId}
          approval={selected}
          person={person}
          onDecided={(after, decision) => {
            setSelected(after);
            setNotice(
              decision === 'deny'
                ? `You denied ${after.user}'s request for ${after.credentialName}.`
                : after.status === 'approved'
                  ? `You approved ${after.user}'s request for ${after.credentialName}; it is approved.`
                  : `You approved ${after.user}'s request for ${after.credentialName}; ${after.approvals} of ${after.required} approvals so far.`,
            );
            void load();
          }}
        />
      ) : (
        <p className="muted">Select a request to see its details and decide.</p>
      )}
    </div>
  );
}
