import { Injectable } from '@nestjs/common';
import { OpenEcmError, type AccessPolicyDefinition, type AccessPolicyView, type ReplyOf } from '@openecm/contracts';
import { DataSource } from 'typeorm';
import { AccessService } from '../access/access.service';

interface PolicyRow {
  name: string;
  definition: AccessPolicyDefinition;
  updated_at: Date;
  groups: string[] | null;
}

function view(row: PolicyRow): AccessPolicyView {
  return { ...row.definition, name: row.name, groups: row.groups ?? [], updatedAt: row.updated_at.toISOString() };
}

const SELECT_POLICIES = `
  SELECT p.name, p.definition, p.updated_at,
         array_remove(array_agg(g.name ORDER BY g.name), NULL) AS groups
    FROM policy.access_policy p
    LEFT JOIN policy.group_policy gp ON gp.policy_id = p.id
    LEFT JOIN policy.requester_group g ON g.id = gp.group_id`;

/**
 * The admin side of access: policies as documents, and the requester groups that hold them. Every change is
 * answered only once each instance dropped what it had cached of anyone's policies, so the next list anywhere
 * sees it.
 */
@Injectable()
export class PoliciesService {
  constructor(
    private readonly db: DataSource,
    private readonly access: AccessService,
  ) {}

  async put(name: string, definition: AccessPolicyDefinition): Promise<ReplyOf<'policy.access-policy.put.v1'>> {
    await this.checkApproverGroups(definition);
    const rows: Array<{ created: boolean }> = await this.db.query(
      `INSERT INTO policy.access_policy (name, name_key, definition) VALUES ($1, lower($1), $2)
       ON CONFLICT (name_key) DO UPDATE SET definition = EXCLUDED.definition, updated_at = now()
       RETURNING (xmax = 0) AS created`,
      [name, JSON.stringify(definition)],
    );
    await this.access.invalidateEverywhere();
    return { policy: await this.get(name), created: rows[0]?.created ?? false };
  }

  async get(name: string): Promise<AccessPolicyView> {
    const rows: PolicyRow[] = await this.db.query(`${SELECT_POLICIES} WHERE p.name_key = lower($1) GROUP BY p.id`, [name]);
    const row = rows[0];
    if (!row) throw new OpenEcmError('POLICY_NOT_FOUND', `no access policy named "${name}"`);
    return view(row);
  }

  async list(): Promise<AccessPolicyView[]> {
    const rows: PolicyRow[] = await this.db.query(`${SELECT_POLICIES} GROUP BY p.id ORDER BY p.name`);
    return rows.map(view);
  }

  async delete(name: string): Promise<void> {
    const policy = await this.get(name);
    if (policy.groups.length > 0) {
      throw new OpenEcmError('POLICY_IN_USE', `the access policy "${policy.name}" is used by ${policy.groups.map((g) => `"${g}"`).join(', ')}`);
    }
    try {
      await this.db.query(`DELETE FROM policy.access_policy WHERE name_key = lower($1)`, [name]);
    } catch (error) {
      // a group took it up in between: the foreign key keeps it
      if ((error as { driverError?: { code?: string } }).driverError?.code === '23503') {
        throw new OpenEcmError('POLICY_IN_USE', `the access policy "${policy.name}" was just given to a group`);
      }
      throw error;
    }
  }

  /** Creates the group or sets its policies; its members stay. */
  async putGroup(name: string, policies: readonly string[]): Promise<ReplyOf<'policy.group.put.v1'>> {
    const created = await this.db.transaction(async (tx) => {
      const ids: Array<{ id: string; name_key: string }> = await tx.query(`SELECT id, name_key FROM policy.access_policy WHERE name_key = ANY($1)`, [
        policies.map((p) => p.toLowerCase()),
      ]);
      const missing = policies.filter((p) => !ids.some((r) => r.name_key === p.toLowerCase()));
      if (missing.length > 0) {
        throw new OpenEcmError(
          'VALIDATION_FAILED',
          `no access policy named ${missing.map((m) => `"${m}"`).join(', ')}`,
          missing.map((m) => ({ field: `policies[${policies.indexOf(m)}]`, message: 'no access policy by this name' })),
        );
      }
      const group: Array<{ id: string; created: boolean }> = await tx.query(
        `INSERT INTO policy.requester_group (name, name_key) VALUES ($1, lower($1))
         ON CONFLICT (name_key) DO UPDATE SET name_key = EXCLUDED.name_key
         RETURNING id, (xmax = 0) AS created`,
        [name],
      );
      const groupId = group[0]?.id;
      await tx.query(`DELETE FROM policy.group_policy WHERE group_id = $1`, [groupId]);
      if (ids.length > 0) {
        await tx.query(`INSERT INTO policy.group_policy (group_id, policy_id) SELECT $1, unnest($2::uuid[])`, [groupId, ids.map((r) => r.id)]);
      }
      return group[0]?.created ?? false;
    });
    await this.access.invalidateEverywhere();
    const group = (await this.groups()).find((g) => g.name.toLowerCase() === name.toLowerCase());
    return { group: group ?? { name, policies: [...policies], members: 0 }, created };
  }

  async groups(): Promise<ReplyOf<'policy.group.list.v1'>['groups']> {
    const rows: Array<{ name: string; policies: string[] | null; members: string }> = await this.db.query(
      `SELECT g.name,
              array_remove(array_agg(DISTINCT p.name), NULL) AS policies,
              (SELECT count(*) FROM policy.group_member m WHERE m.group_id = g.id) AS members
         FROM policy.requester_group g
         LEFT JOIN policy.group_policy gp ON gp.group_id = g.id
         LEFT JOIN policy.access_policy p ON p.id = gp.policy_id
        GROUP BY g.id ORDER BY g.name`,
    );
    return rows.map((r) => ({ name: r.name, policies: (r.policies ?? []).sort(), members: Number(r.members) }));
  }

  /** An approver group must exist: a typo would leave every request of the policy unanswerable. */
  private async checkApproverGroups(definition: AccessPolicyDefinition): Promise<void> {
    if (definition.approval.mode !== 'manual') return;
    const groups = definition.approval.approverGroups;
    const found: Array<{ name_key: string }> = await this.db.query(`SELECT name_key FROM policy.requester_group WHERE name_key = ANY($1)`, [
      groups.map((g) => g.toLowerCase()),
    ]);
    const missing = groups.flatMap((g, i) => (found.some((f) => f.name_key === g.toLowerCase()) ? [] : [i]));
    if (missing.length > 0) {
      throw new OpenEcmError(
        'VALIDATION_FAILED',
        `no group named ${missing.map((i) => `"${groups[i]}"`).join(', ')}: create the approver group first (PUT /api/v1/admin/groups/{name})`,
        missing.map((i) => ({ field: `approval.approverGroups[${i}]`, message: 'no group by this name' })),
      );
    }
  }
}
