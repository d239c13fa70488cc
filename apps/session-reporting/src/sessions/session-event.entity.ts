import { Column, Entity, Index, JoinColumn, ManyToOne, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import type { SessionEventDataEntity } from './session-event-data.entity';
import { SessionEntity } from './session.entity';

/** One thing that happened in a session (BGSessions `session_event`), plus the key that makes recording it idempotent. */
@Entity({ name: 'session_event', schema: 'reporting' })
@Index('ix_session_event_session_id', ['sessionId'])
@Index('ix_session_event_type_performed_by_type', ['type', 'performedByType'])
@Index('ix_session_event_type_destination', ['type', 'destination'])
@Index('ix_session_event_type_performed_by', ['type', 'performedBy'])
@Index('ix_session_event_event_key', ['eventKey'], { unique: true })
@Index('ix_session_event_timestamp_id', ['timestamp', 'id'])
@Index('ix_session_event_type_timestamp', ['type', 'timestamp', 'destination', 'performedBy', 'credentialName'])
@Index('ix_session_event_lease_id', ['leaseId'], { where: '"lease_id" IS NOT NULL' })
@Index('ix_session_event_trace_id', ['traceId'], { where: '"trace_id" IS NOT NULL' })
export class SessionEventEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_session_event' })
  id!: string;

  @Column({ name: 'session_id', type: 'bigint' })
  sessionId!: string;

  @ManyToOne(() => SessionEntity, (session) => session.events, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'fk_session_event_session' })
  session?: SessionEntity;

  @Column({ type: 'varchar', length: 64, collation: 'C' })
  type!: string;

  @Column({ name: 'performed_by_type', type: 'varchar', length: 32, collation: 'C' })
  performedByType!: string;

  @Column({ name: 'performed_by', type: 'text', nullable: true, collation: 'C' })
  performedBy!: string | null;

  @Column({ type: 'text', nullable: true, collation: 'C' })
  destination!: string | null;

  @Column({ type: 'timestamptz' })
  timestamp!: Date;

  /** Identifies the fact that produced the row, so a redelivered or republished fact is stored once. */
  @Column({ name: 'event_key', type: 'text', collation: 'C' })
  eventKey!: string;

  /** broker, appliance (its event batch) or poller (its reporting API). */
  @Column({ type: 'varchar', length: 16, default: 'broker', collation: 'C' })
  source!: string;

  @Column({ name: 'trace_id', type: 'text', nullable: true, collation: 'C' })
  traceId!: string | null;

  @Column({ name: 'lease_id', type: 'text', nullable: true, collation: 'C' })
  leaseId!: string | null;

  @Column({ name: 'credential_name', type: 'text', nullable: true, collation: 'C' })
  credentialName!: string | null;

  @Column({ type: 'text', nullable: true, collation: 'C' })
  vault!: string | null;

  @OneToMany('SessionEventDataEntity', (data: SessionEventDataEntity) => data.sessionEvent)
  data?: SessionEventDataEntity[];
}
