import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A check-out is written as an intent (`pending`, no vault handle yet) before the vault is called, so a
 * crash between the vault's answer and the record still leaves a row the release path checks in.
 */
export class VaultCheckoutIntent1767398400000 implements MigrationInterface {
  name = 'VaultCheckoutIntent1767398400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE vault.checkout ALTER COLUMN request_sealed DROP NOT NULL`);
    await q.query(`ALTER TABLE vault.checkout DROP CONSTRAINT checkout_state_check`);
    await q.query(`ALTER TABLE vault.checkout ADD CONSTRAINT checkout_state_check CHECK (state IN ('pending', 'out', 'in'))`);
    await q.query(`ALTER TABLE vault.checkout ADD COLUMN duration_minutes integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM vault.checkout WHERE state = 'pending'`);
    await q.query(`ALTER TABLE vault.checkout DROP COLUMN duration_minutes`);
    await q.query(`ALTER TABLE vault.checkout DROP CONSTRAINT checkout_state_check`);
    await q.query(`ALTER TABLE vault.checkout ADD CONSTRAINT checkout_state_check CHECK (state IN ('out', 'in'))`);
    await q.query(`ALTER TABLE vault.checkout ALTER COLUMN request_sealed SET NOT NULL`);
  }
}
