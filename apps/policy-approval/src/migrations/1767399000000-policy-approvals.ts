import type { MigrationInterface, QueryRunner } from 'typeorm';

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function hhmm(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/**
 * Access policies as documents (schedule, approval, reason, release cap, exclusivity, emergency, scope), a
 * group holding several policies, approval requests with their decisions, the queue of exclusive credentials,
 * and what a lease owes to them. Existing policies keep their meaning: their one window becomes a schedule.
 */
export class PolicyApprovals1767399000000 implements MigrationInterface {
  name = 'PolicyApprovals1767399000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE policy.access_policy ADD COLUMN definition jsonb, ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`);
    const old: Array<{ id: string; days_of_week: number[]; start_minute: number; end_minute: number; time_zone: string; auto_approve: boolean }> = await q.query(
      `SELECT id, days_of_week, start_minute, end_minute, time_zone, auto_approve FROM policy.access_policy`,
    );
    for (const p of old) {
      const days = [...p.days_of_week].map(Number).sort();
      const always = days.length === 7 && p.start_minute === 0 && p.end_minute === 1440;
      const windows = always ? [] : [{ days: days.map((d) => DAY_NAMES[d]), from: hhmm(p.start_minute), to: p.end_minute === 1440 ? '24:00' : hhmm(p.end_minute) }];
      const definition = {
        schedule: { timeZone: p.time_zone, windows },
        // a manual policy had no approvers before: it keeps refusing until an admin names them
        approval: p.auto_approve ? { mode: 'auto' } : { mode: 'manual', approverGroups: [], required: 1, expiresAfterMinutes: 60 },
        requireReason: false,
        exclusive: false,
        emergency: { allowed: false },
      };
      await q.query(`UPDATE policy.access_policy SET definition = $2 WHERE id = $1`, [p.id, JSON.stringify(definition)]);
    }
    await q.query(`ALTER TABLE policy.access_policy ALTER COLUMN definition SET NOT NULL`);
    await q.query(`ALTER TABLE policy.access_policy DROP COLUMN days_of_week, DROP COLUMN start_minute, DROP COLUMN end_minute, DROP COLUMN time_zone, DROP COLUMN auto_approve`);
    await q.query(`ALTER TABLE policy.access_policy ADD COLUMN name_key text`);
    await q.query(`UPDATE policy.access_policy SET name_key = lower(name)`);
    await q.query(`ALTER TABLE policy.access_policy ALTER COLUMN name_key SET NOT NULL, ADD CONSTRAINT access_policy_name_key_key UNIQUE (name_key)`);

    // a group holds any number of policies; a policy in use cannot be deleted (no cascade from the policy)
    await q.query(`
      CREATE TABLE policy.group_policy (
        group_id uuid NOT NULL REFERENCES policy.requester_group(id) ON DELETE CASCADE,
        policy_id uuid NOT NULL REFERENCES policy.access_policy(id),
        PRIMARY KEY (group_id, policy_id)
      )`);
    await q.query(`CREATE INDEX group_policy_policy ON policy.group_policy (policy_id)`);
    await q.query(`INSERT INTO policy.group_policy (group_id, policy_id) SELECT id, policy_id FROM policy.requester_group`);
    await q.query(`ALTER TABLE policy.requester_group DROP COLUMN policy_id`);

    await q.query(`
      CREATE TABLE policy.approval (
        id uuid PRIMARY KEY,
        offer_id uuid NOT NULL REFERENCES policy.credential_offer(id),
        user_name text NOT NULL,
        user_key text NOT NULL,
        endpoint text NOT NULL,
        session_id text NOT NULL,
        owner text NOT NULL,
        vault text NOT NULL,
        credential_name text NOT NULL,
        policy_name text NOT NULL,
        required smallint NOT NULL,
        approver_groups text[] NOT NULL,
        reason text,
        valid_minutes integer NOT NULL,
        status text NOT NULL CHECK (status IN ('pending','approved','denied','expired','revoked')),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        decided_at timestamptz,
        lease_id uuid
      )`);
    // a repeated injection finds its request; the reconciler finds what is due to expire
    await q.query(`CREATE INDEX approval_offer_user ON policy.approval (offer_id, user_key, created_at DESC)`);
    await q.query(`CREATE INDEX approval_pending_due ON policy.approval (expires_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX approval_status_created ON policy.approval (status, created_at DESC)`);
    await q.query(`
      CREATE TABLE policy.approval_decision (
        approval_id uuid NOT NULL REFERENCES policy.approval(id) ON DELETE CASCADE,
        approver_key text NOT NULL,
        approver_name text NOT NULL,
        eligible_groups text[] NOT NULL,
        counted_group text,
        decision text NOT NULL CHECK (decision IN ('approve','deny')),
        comment text,
        decided_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (approval_id, approver_key)
      )`);

    await q.query(`
      CREATE TABLE policy.credential_wait (
        id uuid PRIMARY KEY,
        credential_key text NOT NULL,
        user_key text NOT NULL,
        user_name text NOT NULL,
        endpoint text NOT NULL,
        vault text NOT NULL,
        credential_name text NOT NULL,
        status text NOT NULL CHECK (status IN ('waiting','turn','served','expired')),
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        expires_at timestamptz NOT NULL,
        turn_until timestamptz
      )`);
    await q.query(`CREATE INDEX credential_wait_open ON policy.credential_wait (credential_key, created_at) WHERE status IN ('waiting','turn')`);

    await q.query(`
      ALTER TABLE policy.lease
        ADD COLUMN policy_name text,
        ADD COLUMN approval_id uuid,
        ADD COLUMN emergency boolean NOT NULL DEFAULT false,
        ADD COLUMN reason text,
        ADD COLUMN exclusive boolean NOT NULL DEFAULT false,
        ADD COLUMN credential_key text,
        ADD COLUMN revoked_at timestamptz,
        ADD COLUMN revoked_reason text`);
    await q.query(`ALTER TABLE policy.lease DROP CONSTRAINT IF EXISTS lease_released_by_check`);
    await q.query(`ALTER TABLE policy.lease ADD CONSTRAINT lease_released_by_check CHECK (released_by IN ('appliance','expiry','revocation'))`);
    // one holder of an exclusive credential at a time, until its check-in: the database refuses a second
    await q.query(`CREATE UNIQUE INDEX lease_exclusive_holder ON policy.lease (credential_key) WHERE exclusive AND (state IN ('active','released') OR checkin_due)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX policy.lease_exclusive_holder`);
    await q.query(`ALTER TABLE policy.lease DROP CONSTRAINT lease_released_by_check`);
    await q.query(`ALTER TABLE policy.lease ADD CONSTRAINT lease_released_by_check CHECK (released_by IN ('appliance','expiry'))`);
    await q.query(`ALTER TABLE policy.lease DROP COLUMN policy_name, DROP COLUMN approval_id, DROP COLUMN emergency, DROP COLUMN reason, DROP COLUMN exclusive, DROP COLUMN credential_key, DROP COLUMN revoked_at, DROP COLUMN revoked_reason`);
    await q.query(`DROP TABLE policy.credential_wait`);
    await q.query(`DROP TABLE policy.approval_decision`);
    await q.query(`DROP TABLE policy.approval`);
    await q.query(`ALTER TABLE policy.requester_group ADD COLUMN policy_id uuid REFERENCES policy.access_policy(id)`);
    await q.query(`UPDATE policy.requester_group g SET policy_id = (SELECT policy_id FROM policy.group_policy gp WHERE gp.group_id = g.id LIMIT 1)`);
    await q.query(`DROP TABLE policy.group_policy`);
    await q.query(`ALTER TABLE policy.access_policy DROP COLUMN name_key`);
    await q.query(`
      ALTER TABLE policy.access_policy
        ADD COLUMN days_of_week smallint[] NOT NULL DEFAULT '{0,1,2,3,4,5,6}',
        ADD COLUMN start_minute smallint NOT NULL DEFAULT 0,
        ADD COLUMN end_minute smallint NOT NULL DEFAULT 1440,
        ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC',
        ADD COLUMN auto_approve boolean NOT NULL DEFAULT true`);
    await q.query(`UPDATE policy.access_policy SET time_zone = definition->'schedule'->>'timeZone', auto_approve = (definition->'approval'->>'mode') = 'auto'`);
    await q.query(`ALTER TABLE policy.access_policy DROP COLUMN definition, DROP COLUMN updated_at`);
  }
}
