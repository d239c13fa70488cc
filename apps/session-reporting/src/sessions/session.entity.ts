import { Column, Entity, Index, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import type { SessionEventEntity } from './session-event.entity';

/**
 * One appliance session, in the vendor's BGSessions `session` shape so existing dashboards carry over.
 * Free-form values from the appliance are `text`: a longer value than expected must never make an event
 * unstorable (it would be redelivered forever).
 */
@Entity({ name: 'session', schema: 'reporting' })
@Index('ix_session_lsid', ['lsid'], { unique: true })
@Index('ix_session_start_time', ['startTime'])
@Index('ix_session_host_name', ['hostName'])
@Index('ix_session_jump_group_name', ['jumpGroupName'])
export class SessionEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_session' })
  id!: string;

  /** The appliance's session id. */
  @Column({ type: 'text' })
  lsid!: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
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
  @Column({ name: 'host_name', type: 'text', nullable: true })
  hostName!: string | null;

  @Column({ name: 'external_key', type: 'text', nullable: true })
  externalKey!: string | null;

  @Column({ name: 'public_site_id', type: 'integer', nullable: true })
  publicSiteId!: number | null;

  @Column({ name: 'public_site_name', type: 'text', nullable: true })
  publicSiteName!: string | null;

  @Column({ name: 'jump_group_id', type: 'integer', nullable: true })
  jumpGroupId!: number | null;

  @Column({ name: 'jump_group_name', type: 'text', nullable: true })
  jumpGroupName!: string | null;

  @OneToMany('SessionEventEntity', (event: SessionEventEntity) => event.session)
  events?: SessionEventEntity[];
}
