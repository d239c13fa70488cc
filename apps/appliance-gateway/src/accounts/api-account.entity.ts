import type { ApiPermission } from '@openecm/contracts';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { GATEWAY_SCHEMA } from '../schema';

/** An OAuth client of the appliance API. Only a scrypt hash of its secret is kept. */
@Entity({ name: 'api_account', schema: GATEWAY_SCHEMA })
export class ApiAccountEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'client_id', type: 'varchar', length: 128, unique: true })
  clientId!: string;

  @Column({ name: 'secret_hash', type: 'text' })
  secretHash!: string;

  @Column({ type: 'text', array: true })
  permissions!: ApiPermission[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
