import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * External jump items: the appliance-side settings (one row; `id_key` keys the item ids and cursors) and each
 * user's recently used items. No vault inventory is stored: searches ask the vaults.
 */
export class PolicyJumpItems1767398900000 implements MigrationInterface {
  name = 'PolicyJumpItems1767398900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE policy.jump_item_settings (
        id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        enabled boolean NOT NULL DEFAULT false,
        jumpoint_id text NULL,
        group_name text NOT NULL DEFAULT 'External Jump Items',
        id_key bytea NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE policy.jump_item_recent (
        user_key text NOT NULL,
        item_id text NOT NULL,
        vault text NOT NULL,
        ref jsonb NOT NULL,
        name text NOT NULL,
        hostname text NOT NULL,
        ip text NULL,
        jump_method text NOT NULL CHECK (jump_method IN ('rdp', 'shell')),
        comments text NOT NULL,
        network_id text NULL,
        used_at timestamptz NOT NULL,
        PRIMARY KEY (user_key, item_id)
      )`);
    await q.query(`CREATE INDEX jump_item_recent_user_used ON policy.jump_item_recent (user_key, used_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE policy.jump_item_recent`);
    await q.query(`DROP TABLE policy.jump_item_settings`);
  }
}
