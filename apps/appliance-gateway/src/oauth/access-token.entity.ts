import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ApiAccountEntity } from '../accounts/api-account.entity';
import { GATEWAY_SCHEMA } from '../schema';

/**
 * An issued access token, kept only as its SHA-256. The identity column orders tokens by issue, which
 * decides which ones go when an account passes its live-token cap.
 */
@Entity({ name: 'access_token', schema: GATEWAY_SCHEMA })
@Index('access_token_account_idx', ['accountId', 'id'])
export class AccessTokenEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column({ name: 'token_hash', type: 'char', length: 64, unique: true })
  tokenHash!: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId!: string;

  @ManyToOne(() => ApiAccountEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'account_id' })
  account?: ApiAccountEntity;

  @Column({ name: 'issued_at', type: 'timestamptz', default: () => 'now()' })
  issuedAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
