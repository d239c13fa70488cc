import type { MigrationInterface, QueryRunner } from 'typeorm';

export class VaultInitial1764000000000 implements MigrationInterface {
  name = 'VaultInitial1764000000000';

  async up(q: QueryRunner): Promise<void> {
    // settings are sealed (AES-256-GCM) as a whole: API keys and client secrets never sit in clear text
    await q.query(`
      CREATE TABLE vault.connection (
        name text PRIMARY KEY,
        type text NOT NULL,
        settings_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // one row per lease checked out at a vault; the vault's request id is a bearer capability, so sealed
    await q.query(`
      CREATE TABLE vault.checkout (
        lease_id uuid PRIMARY KEY,
        connection text NOT NULL REFERENCES vault.connection(name) ON DELETE CASCADE,
        user_name text NOT NULL,
        ref jsonb NOT NULL,
        request_sealed text NOT NULL,
        state text NOT NULL CHECK (state IN ('out', 'in')),
        created_at timestamptz NOT NULL DEFAULT now(),
        checked_in_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE vault.checkout');
    await q.query('DROP TABLE vault.connection');
  }
}
