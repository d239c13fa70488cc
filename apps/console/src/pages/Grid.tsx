import type { EventPage, EventRow, SessionPage, SessionRow } from '@openecm/contracts';
import {
  AllCommunityModule,
  ModuleRegistry,
  themeQuartz,
  type ColDef,
  type FilterModel,
  type GridApi,
  type IDatasource,
  type IGetRowsParams,
  type SortModelItem,
} from 'ag-grid-community';
import { AgGridReact } from 'ag-grid-react';
import { useMemo, useRef, useState } from 'react';
import { call, downloadCsv, query } from '../api';
import { EVENT_COLUMNS, EVENT_SORTS, SESSION_COLUMNS, SESSION_SORTS, type ColumnKind } from '../contract-values';
import { navigate } from '../router';

ModuleRegistry.registerModules([AllCommunityModule]);

type GridName = 'sessions' | 'events';
type Row = SessionRow | EventRow;

const PAGE_SIZE = 50;

const GRIDS = {
  sessions: {
    title: 'Sessions',
    columns: SESSION_COLUMNS,
    sorts: SESSION_SORTS as readonly string[],
    rangeColumn: 'startTime',
    defaultSort: '-startTime',
    shown: ['id', 'startTime', 'endTime', 'user', 'endpoint', 'credential', 'vault', 'injections', 'failures', 'emergency', 'lsid', 'jumpGroupName', 'traceId'],
  },
  events: {
    title: 'Events',
    columns: EVENT_COLUMNS,
    sorts: EVENT_SORTS as readonly string[],
    rangeColumn: 'timestamp',
    defaultSort: '-timestamp',
    shown: ['id', 'timestamp', 'type', 'sessionId', 'lsid', 'performedBy', 'destination', 'source', 'credential', 'vault', 'traceId'],
  },
} as const;

// one condition per column, as the API takes them; the floating filter under each header applies the first option
const TEXT_FILTER = { filter: 'agTextColumnFilter', filterParams: { filterOptions: ['equals', 'startsWith'], maxNumConditions: 1, buttons: ['reset'], debounceMs: 400 } };
const NUMBER_FILTER = {
  filter: 'agNumberColumnFilter',
  filterParams: { filterOptions: ['equals', 'greaterThanOrEqual', 'lessThanOrEqual', 'inRange'], maxNumConditions: 1, buttons: ['reset'], debounceMs: 400 },
};
const BOOLEAN_FILTER = { filter: 'agTextColumnFilter', filterParams: { filterOptions: ['equals'], maxNumConditions: 1, buttons: ['reset'], debounceMs: 400 } };

interface SimpleFilter {
  filterType: 'text' | 'number';
  type: string;
  filter?: string | number | null;
  filterTo?: number | null;
}

/** The grid's filters as the API's: `col` equals, `col.prefix` starts with, `col.from`/`col.to` a range. */
export function filterParams(model: FilterModel): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [col, raw] of Object.entries(model)) {
    const f = raw as SimpleFilter;
    if (f.filter === undefined || f.filter === null || f.filter === '') continue;
    const value = String(f.filter);
    if (f.type === 'equals') out[col] = value;
    else if (f.type === 'startsWith') out[`${col}.prefix`] = value;
    else if (f.type === 'greaterThanOrEqual') out[`${col}.from`] = value;
    else if (f.type === 'lessThanOrEqual') out[`${col}.to`] = value;
    else if (f.type === 'inRange') {
      out[`${col}.from`] = value;
      if (f.filterTo !== undefined && f.filterTo !== null) out[`${col}.to`] = String(f.filterTo);
    }
  }
  return out;
}

/** The filters of a grid URL (a card's, or a shared link's) as the grid's filter model. */
function initialFilterModel(columns: Readonly<Record<string, ColumnKind>>, params: URLSearchParams): FilterModel {
  const model: FilterModel = {};
  for (const [key, value] of params) {
    const [col = '', op] = key.split('.');
    const kind = columns[col];
    if (!kind || kind === 'time') continue;
    const filterType = kind === 'integer' ? 'number' : 'text';
    const current = (model[col] as SimpleFilter | undefined) ?? { filterType, type: 'equals' };
    if (op === undefined) model[col] = { ...current, type: 'equals', filter: kind === 'integer' ? Number(value) : value };
    else if (op === 'prefix') model[col] = { ...current, type: 'startsWith', filter: value };
    else if (op === 'from') model[col] = { ...current, type: current.filterTo != null ? 'inRange' : 'greaterThanOrEqual', filter: Number(value) };
    else if (op === 'to')
      model[col] = current.filter != null ? { ...current, type: 'inRange', filterTo: Number(value) } : { ...current, type: 'lessThanOrEqual', filter: Number(value) };
  }
  return model;
}

const formatTime = (value: unknown) => (typeof value === 'string' && value ? new Date(value).toLocaleString() : '');

export function Grid({ grid, initial }: { grid: GridName; initial: URLSearchParams }) {
  const spec = GRIDS[grid];
  const api = useRef<GridApi<Row> | null>(null);
  const [range, setRange] = useState(() => ({
    from: initial.get(`${spec.rangeColumn}.from`) ?? '',
    to: initial.get(`${spec.rangeColumn}.to`) ?? '',
  }));
  const [apiQuery, setApiQuery] = useState('');
  const [total, setTotal] = useState<string>('');
  const [error, setError] = useState<string | null>(null);
  const initialSort = initial.get('sort') ?? spec.defaultSort;

  const columnDefs = useMemo<ColDef<Row>[]>(() => {
    const sortColumn = initialSort.replace(/^-/, '');
    const columns: ColDef<Row>[] = Object.entries(spec.columns).map(([field, kind]) => ({
      field: field as keyof Row & string,
      headerName: field,
      colId: field,
      hide: !(spec.shown as readonly string[]).includes(field),
      sortable: spec.sorts.includes(field),
      ...(field === sortColumn ? { initialSort: initialSort.startsWith('-') ? ('desc' as const) : ('asc' as const) } : {}),
      ...(kind === 'text' ? TEXT_FILTER : kind === 'integer' ? NUMBER_FILTER : kind === 'boolean' ? BOOLEAN_FILTER : { filter: false }),
      ...(kind === 'time' ? { valueFormatter: (p: { value: unknown }) => formatTime(p.value), minWidth: 180 } : {}),
    }));
    if (grid === 'events') {
      columns.push({ colId: 'data', headerName: 'data', sortable: false, filter: false, valueGetter: (p) => JSON.stringify((p.data as EventRow | undefined)?.data ?? {}) });
    }
    return columns;
  }, [grid, spec, initialSort]);

  const rangeParams = useMemo(
    () => ({ [`${spec.rangeColumn}.from`]: range.from || undefined, [`${spec.rangeColumn}.to`]: range.to || undefined }),
    [range, spec.rangeColumn],
  );

  const datasource = useMemo<IDatasource>(() => {
    // keyset paging: the cursor of each block comes from the block before it
    let key = '';
    let cursors = new Map<number, string>();
    let ended: number | undefined;
    const page = async (base: string, start: number, size: number) => {
      const cursor = cursors.get(start);
      const res = await call<SessionPage | EventPage>(`/api/v1/reports/${grid}?${base}&${query({ limit: size, cursor: cursor || undefined })}`);
      if (res.nextCursor === null) ended = start + res.items.length;
      else cursors.set(start + size, res.nextCursor);
      return res.items as Row[];
    };
    return {
      getRows: (params: IGetRowsParams) => {
        const sort = (params.sortModel as SortModelItem[])[0];
        const base = query({
          ...filterParams(params.filterModel as FilterModel),
          ...rangeParams,
          sort: sort ? `${sort.sort === 'desc' ? '-' : ''}${sort.colId}` : spec.defaultSort,
        });
        if (base !== key) {
          key = base;
          cursors = new Map([[0, '']]);
          ended = undefined;
          setApiQuery(base);
          window.history.replaceState(null, '', `/console/${grid}?${base}`);
        }
        const size = params.endRow - params.startRow;
        void (async () => {
          let start = Math.max(...[...cursors.keys()].filter((s) => s <= params.startRow));
          while (start < params.startRow && ended === undefined) {
            await page(base, start, size);
            start += size;
          }
          if (ended !== undefined && params.startRow >= ended) return params.successCallback([], ended);
          const items = await page(base, params.startRow, size);
          setTotal(ended === undefined ? `${params.startRow + items.length}+` : String(ended));
          setError(null);
          params.successCallback(items, ended ?? -1);
        })().catch((e: Error) => {
          setError(e.message);
          params.failCallback();
        });
      },
    };
  }, [grid, rangeParams, spec.defaultSort]);

  return (
    <div className="grid-page">
      <div className="toolbar">
        <h1>{spec.title}</h1>
        <label>
          {spec.rangeColumn} from{' '}
          <input data-testid="range-from" value={range.from} placeholder="ISO time" onChange={(e) => setRange({ ...range, from: e.target.value })} />
        </label>
        <label>
          to <input data-testid="range-to" value={range.to} placeholder="ISO time" onChange={(e) => setRange({ ...range, to: e.target.value })} />
        </label>
        <span className="muted" data-testid="row-count">
          {total ? `${total} rows` : ''}
        </span>
        <button type="button" data-testid="export-csv" onClick={() => void downloadCsv(`/api/v1/reports/${grid}?${apiQuery}`, `${grid}.csv`).catch((e: Error) => setError(e.message))}>
          Export CSV
        </button>
      </div>
      <p className="api-query">
        API: <code data-testid="api-query">{`GET /api/v1/reports/${grid}?${apiQuery}`}</code>
      </p>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="grid" data-testid={`grid-${grid}`}>
        <AgGridReact<Row>
          theme={themeQuartz}
          columnDefs={columnDefs}
          defaultColDef={{ resizable: true, minWidth: 110, flex: 1, floatingFilter: true }}
          rowModelType="infinite"
          datasource={datasource}
          cacheBlockSize={PAGE_SIZE}
          maxBlocksInCache={20}
          pagination
          suppressColumnVirtualisation
          paginationPageSize={PAGE_SIZE}
          paginationPageSizeSelector={false}
          initialState={{ filter: { filterModel: initialFilterModel(spec.columns, initial) } }}
          onGridReady={(e) => {
            api.current = e.api;
          }}
          onRowClicked={(e) => {
            const row = e.data;
            if (!row) return;
            navigate(`/console/sessions/${grid === 'sessions' ? row.id : (row as EventRow).sessionId}`);
          }}
          getRowId={(p) => String((p.data as Row).id)}
        />
      </div>
    </div>
  );
}
