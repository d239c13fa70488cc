import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';

/** The appliance's API as session-reporting reaches it; the client secret sealed with APPLIANCE_SETTINGS_KEYS. */
@Entity({ name: 'appliance_connection', schema: 'reporting' })
export class ApplianceConnectionEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_appliance_connection' })
  name!: string;

  @Column({ type: 'text' })
  url!: string;

  @Column({ name: 'client_id', type: 'text' })
  clientId!: string;

  /** An AES-256-GCM envelope naming its key id; never the secret itself. */
  @Column({ name: 'client_secret', type: 'text' })
  clientSecret!: string;

  @Column({ name: 'poll_interval_seconds', type: 'integer' })
  pollIntervalSeconds!: number;

  @Column({ name: 'ca_bundle', type: 'text', nullable: true })
  caBundle!: string | null;

  @Column({ name: 'allow_insecure_http', type: 'boolean', default: false })
  allowInsecureHttp!: boolean;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}

/** Where the report poller of a connection resumes, and how its last poll went. */
@Entity({ name: 'report_poll', schema: 'reporting' })
export class ReportPollEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_report_poll' })
  connection!: string;

  @OneToOne(() => ApplianceConnectionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'connection', foreignKeyConstraintName: 'fk_report_poll_connection' })
  appliance?: ApplianceConnectionEntity;

  /** Unix seconds, the appliance's clock: the next poll asks for sessions from here. */
  @Column({ name: 'resume_from', type: 'bigint', default: 0 })
  resumeFrom!: string;

  @Column({ name: 'last_polled_at', type: 'timestamptz', nullable: true })
  lastPolledAt!: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'sessions_stored', type: 'bigint', default: 0 })
  sessionsStored!: string;
}
