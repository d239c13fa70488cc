import type { EventSource } from '@openecm/contracts';

/** What the session row learns from one event; a value left out leaves the row's as it is. */
export interface SessionAttributes {
  /** When the appliance says the session started; the earliest event counts otherwise. */
  startTime?: Date;
  type?: string;
  endTime?: Date;
  hostName?: string;
  externalKey?: string;
  publicSiteId?: number;
  publicSiteName?: string;
  jumpGroupId?: number;
  jumpGroupName?: string;
  fileTransfers?: number;
  user?: string;
  endpoint?: string;
  credential?: string;
  vault?: string;
  leaseId?: string;
  approvalId?: string;
  emergency?: boolean;
  traceId?: string;
}

/**
 * One event as it is stored, whichever source it came from: a `session_event` row of the session `sessionLsid`,
 * its `session_event_data` rows, and what the session row takes from it.
 */
export interface SessionEventRecord {
  sessionLsid: string;
  type: string;
  performedByType: string;
  performedBy: string | null;
  destination: string | null;
  timestamp: Date;
  /** Identifies the fact, not its delivery: the same fact from any delivery (or source) gets the same key. */
  eventKey: string;
  source: EventSource;
  traceId: string | null;
  leaseId: string | null;
  credentialName: string | null;
  vault: string | null;
  data: Array<{ name: string; value: string | null }>;
  session: SessionAttributes;
}
