import { Injectable } from '@nestjs/common';
import { DEFAULT_JUMP_ITEM_GROUP, type JumpItemSettings } from '@openecm/contracts';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';

export interface StoredJumpItemSettings {
  enabled: boolean;
  jumpointId: string | null;
  groupName: string;
  updatedAt: string;
  /** Keys item ids and cursors; made once, never shown. */
  idKey: Buffer;
}

interface Row {
  enabled: boolean;
  jumpoint_id: string | null;
  group_name: string;
  id_key: Buffer;
  updated_at: Date;
}

/** The one settings row, made (switched off, with a fresh id key) the first time anyone asks. */
@Injectable()
export class JumpItemSettingsRepository {
  constructor(private readonly db: DataSource) {}

  async get(): Promise<StoredJumpItemSettings> {
    const rows: Row[] = await this.db.query(`SELECT * FROM policy.jump_item_settings WHERE id = 1`);
    if (rows[0]) return toSettings(rows[0]);
    await this.db.query(`INSERT INTO policy.jump_item_settings (id, group_name, id_key) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`, [
      DEFAULT_JUMP_ITEM_GROUP,
      randomBytes(32),
    ]);
    const made: Row[] = await this.db.query(`SELECT * FROM policy.jump_item_settings WHERE id = 1`);
    return toSettings(made[0] as Row);
  }

  async put(settings: JumpItemSettings): Promise<StoredJumpItemSettings> {
    const rows: Row[] = await this.db.query(
      `INSERT INTO policy.jump_item_settings (id, enabled, jumpoint_id, group_name, id_key) VALUES (1, $1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET enabled = EXCLUDED.enabled, jumpoint_id = EXCLUDED.jumpoint_id,
         group_name = EXCLUDED.group_name, updated_at = now()
       RETURNING *`,
      [settings.enabled, settings.jumpointId, settings.groupName, randomBytes(32)],
    );
    return toSettings(rows[0] as Row);
  }
}

function toSettings(row: Row): StoredJumpItemSettings {
  return { enabled: row.enabled, jumpointId: row.jumpoint_id, groupName: row.group_name, updatedAt: row.updated_at.toISOString(), idKey: row.id_key };
}
