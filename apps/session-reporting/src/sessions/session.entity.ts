import { Column, Entity, Index, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import type { SessionEventEntity } from './session-event.entity';

/**
 * One appliance session, in the vendor's BGSessions `session` shape so existing dashboards carry over.
 * Free-form values from the appliance are `text`: a longer value than expected must never make an event
 * unstorable (it would be redelivered forever). Text compares bytewise (collation "C", migration 1796000000003), so a
 * prefix filter of the grids is a range of the column's index whatever the database's locale.
 */
@Entity({ name: 'session', schema: 'reporting' })
@Index('ix_session_lsid', ['lsid'], { unique: true })
@Index('ix_session_start_time', ['startTime'])
@Index('ix_session_host_name', ['hostName'])
@Index('ix_session_jump_group_name', ['jumpGroupName'])
@Index('ix_session_start_time_id', ['startTime', 'id', 'userName', 'endpoint'])
@Index('ix_session_user_name_id', ['userName', 'id'])
@Index('ix_session_endpoint_id', ['endpoint', 'id'])
@Index('ix_session_credential_name_id', ['credentialName', 'id'])
@Index('ix_session_host_name_id', ['hostName', 'id'])
@Index('ix_session_jump_group_name_id', ['jumpGroupName', 'id'])
@Index('ix_session_emergency_start_time', ['emergency', 'startTime'])
@Index('ix_session_lease_id', ['leaseId'], { where: '"lease_id" IS NOT NULL' })
@Index('ix_session_trace_id', ['traceId'], { where: '"trace_id" IS NOT NULL' })
export class SessionEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_session' })
  id!: string;

  /** The appliance's session id. */
  @Column({ type: 'text', collation: 'C' })
  lsid!: string;

  @Column({ type: 'varchar', length: 64, nullable: true, collation: 'C' })
  type!: string | null;

  @Column({ name: 'start_time', type: 'timestamptz' })
  startTime!: Date;

  @Column({ name: 'end_time', type: 'timestamptz', nullable: true })
  endTime!: Date | null;

  /** Seconds. */
  @Column({ type: 'integer', nullable: true })
  duration!: number | null;

  @Column({ name: 'file_transfers', type: 'integer', default: 0 })
  fileTransfers!: number;

  /** The appliance site's host name, not the endpoint's. */
  @Column({ name: 'host_name', type: 'text', nullable: true, collation: 'C' })
  hostName!: string | null;

  @Column({ name: 'external_key', type: 'text', nullable: true, collation: 'C' })
  externalKey!: string | null;

  @Column({ name: 'public_site_id', type: 'integer', nullable: true })
  publicSiteId!: number | null;

  @Column({ name: 'public_site_name', type: 'text', nullable: true, collation: 'C' })
  publicSiteName!: string | null;

  @Column({ name: 'jump_group_id', type: 'integer', nullable: true })
  jumpGroupId!: number | null;

  @Column({ name: 'jump_group_name', type: 'text', nullable: true, collation: 'C' })
  jumpGroupName!: string | null;

  // what only the broker knows

  /** The representative: the broker's user, or the appliance's representative. */
  @Column({ name: 'user_name', type: 'text', nullable: true, collation: 'C' })
  userName!: string | null;

  @Column({ type: 'text', nullable: true, collation: 'C' })
  endpoint!: string | null;

  /** The last credential injected (its name). */
  @Column({ name: 'credential_name', type: 'text', nullable: true, collation: 'C' })
  credentialName!: string | null;

  @Column({ type: 'text', nullable: true, collation: 'C' })
  vault!: string | null;

  @Column({ name: 'lease_id', type: 'text', nullable: true, collation: 'C' })
  leaseId!: string | null;

  @Column({ name: 'approval_id', type: 'text', nullable: true, collation: 'C' })
  approvalId!: string | null;

  @Column({ type: 'boolean', default: false })
  emergency!: boolean;

  /** The trace of the first broker event of the session. */
  @Column({ name: 'trace_id', type: 'text', nullable: true, collation: 'C' })
  traceId!: string | null;

  /** Counted as events are inserted (a duplicate never counts), so the grid needs no join. */
  @Column({ type: 'integer', default: 0 })
  injections!: number;

  @Column({ type: 'integer', default: 0 })
  failures!: number;

  @OneToMany('SessionEventEntity', (event: SessionEventEntity) => event.session)
  events?: SessionEventEntity[];
}
