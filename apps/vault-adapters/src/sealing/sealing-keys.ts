import { Injectable, type OnModuleInit } from '@nestjs/common';
import { loadConfig, vaultAdaptersConfig } from '@openecm/config';
import { OpenEcmError, type SealedBox, type SealingPublicKey } from '@openecm/contracts';
import { Keyring, SealingKeyPair, type SealContext } from '@openecm/crypto';

/** HKDF labels: each use of VAULT_SETTINGS_KEYS gets keys of its own (docs/adr/0010). */
const CONNECTION_SEALING_LABEL = 'openecm vault-adapters sealing key v1';
const SESSION_KEYS_LABEL = 'openecm vault sessions v1';

/**
 * The keys vault-adapters seals and opens with on the bus, all derived from VAULT_SETTINGS_KEYS so every
 * instance holds the same ones and no setting is added: an X25519 key pair per settings key (the gateway
 * seals connection settings to the active one's public key), and a keyring for the vault sessions it hands
 * token-cache to keep.
 */
@Injectable()
export class SealingKeys implements OnModuleInit {
  private readonly settings = Keyring.parse(loadConfig(vaultAdaptersConfig).VAULT_SETTINGS_KEYS);
  /** Vault sessions, sealed before they leave for token-cache. */
  readonly sessions = this.settings.derive(SESSION_KEYS_LABEL);
  private pairs = new Map<string, SealingKeyPair>();
  private activeKid = this.settings.activeKeyId;

  async onModuleInit(): Promise<void> {
    const pairs = new Map<string, SealingKeyPair>();
    for (const { id, material, active } of this.settings.deriveMaterial(CONNECTION_SEALING_LABEL)) {
      pairs.set(id, await SealingKeyPair.derive(material, CONNECTION_SEALING_LABEL, id));
      if (active) this.activeKid = id;
    }
    this.pairs = pairs;
  }

  /** What the gateway seals connection settings to. */
  publicKey(): SealingPublicKey {
    const pair = this.pairs.get(this.activeKid);
    if (!pair) throw new OpenEcmError('SERVICE_UNAVAILABLE', 'vault-adapters is still starting');
    return pair.publicKey;
  }

  /**
   * Opens a box sealed to one of these keys; a box that does not open (another key, another context, changed
   * on the way) is refused as invalid input, naming the field and never the content.
   */
  async open(box: SealedBox, context: SealContext, field: string): Promise<unknown> {
    const pair = this.pairs.get(box.kid ?? this.activeKid);
    const value = pair ? await pair.open(box, context) : undefined;
    if (value === undefined) {
      throw new OpenEcmError('VALIDATION_FAILED', `${field} is not sealed to a key of this vault-adapters`, [
        { field, message: pair ? 'does not open with the vault-adapters key it names' : `sealed to key "${box.kid}", which vault-adapters does not hold` },
      ]);
    }
    return value;
  }
}
