import type { MigrationInterface, QueryRunner } from 'typeorm';

export class PolicyInitial1764000000000 implements MigrationInterface {
  name = 'PolicyInitial1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE policy.access_policy (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        days_of_week smallint[] NOT NULL DEFAULT '{0,1,2,3,4,5,6}',
        start_minute smallint NOT NULL DEFAULT 0 CHECK (start_minute BETWEEN 0 AND 1440),
        end_minute smallint NOT NULL DEFAULT 1440 CHECK (end_minute BETWEEN 0 AND 1440),
        time_zone text NOT NULL DEFAULT 'UTC',
        auto_approve boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE policy.requester_group (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        name_key text NOT NULL UNIQUE,
        policy_id uuid NOT NULL REFERENCES policy.access_policy(id),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE policy.group_member (
        group_id uuid NOT NULL REFERENCES policy.requester_group(id) ON DELETE CASCADE,
        user_key text NOT NULL,
        user_name text NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, user_key)
      )`);
    await q.query(`CREATE INDEX group_member_user_key ON policy.group_member (user_key)`);
    await q.query(`
      CREATE TABLE policy.credential_offer (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_key text NOT NULL,
        endpoint_key text NOT NULL,
        vault text NOT NULL,
        ref jsonb NOT NULL,
        ref_key text NOT NULL,
        name text NOT NULL,
        username text NOT NULL,
        domain text,
        scope text NOT NULL,
        release_duration_minutes integer NOT NULL,
        rotate_after_release boolean NOT NULL,
        listed_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (user_key, endpoint_key, vault, ref_key)
      )`);
    await q.query(`
      CREATE TABLE policy.lease (
        id uuid PRIMARY KEY,
        offer_id uuid NOT NULL REFERENCES policy.credential_offer(id),
        user_name text NOT NULL,
        endpoint text NOT NULL,
        session_id text NOT NULL,
        vault text NOT NULL,
        credential_name text NOT NULL,
        username text NOT NULL,
        domain text,
        state text NOT NULL CHECK (state IN ('active','released','rotated','checked-in','failed')),
        rotate boolean NOT NULL,
        rotation text NOT NULL CHECK (rotation IN ('pending','scheduled','done','not-required','failed')),
        opened_at timestamptz NOT NULL DEFAULT now(),
        release_at timestamptz NOT NULL,
        released_at timestamptz,
        released_by text CHECK (released_by IN ('appliance','expiry')),
        rotated_at timestamptz,
        error_code text,
        error_message text
      )`);
    // the reconciler's scan: open leases by due time
    await q.query(`CREATE INDEX lease_open_due ON policy.lease (release_at) WHERE state IN ('active','released')`);
    await q.query(`CREATE INDEX lease_session ON policy.lease (session_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE policy.lease');
    await q.query('DROP TABLE policy.credential_offer');
    await q.query('DROP TABLE policy.group_member');
    await q.query('DROP TABLE policy.requester_group');
    await q.query('DROP TABLE policy.access_policy');
  }
}
