import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { SessionEventEntity } from './session-event.entity';

/** A named value attached to a session event (BGSessions `session_event_data`); never a secret. */
@Entity({ name: 'session_event_data', schema: 'reporting' })
@Index('ix_session_event_data_session_event_id', ['sessionEventId'])
@Index('ix_session_event_data_name', ['name'])
export class SessionEventDataEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_session_event_data' })
  id!: string;

  @Column({ name: 'session_event_id', type: 'bigint' })
  sessionEventId!: string;

  @ManyToOne(() => SessionEventEntity, (event) => event.data, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_event_id', foreignKeyConstraintName: 'fk_session_event_data_session_event' })
  sessionEvent?: SessionEventEntity;

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ type: 'text', nullable: true })
  value!: string | null;
}
