import { Injectable, type OnModuleInit } from '@nestjs/common';
import { loadConfig, sessionReportingConfig } from '@openecm/config';
import { OpenEcmError, type SealedBox, type SealingPublicKey } from '@openecm/contracts';
import { Keyring, SealingKeyPair, type SealContext } from '@openecm/crypto';

/** HKDF labels: each use of APPLIANCE_SETTINGS_KEYS gets keys of its own. */
const SEALING_LABEL = 'openecm session-reporting sealing key v1';
const AT_REST_LABEL = 'openecm appliance connection secret v1';

/**
 * session-reporting's keys, all derived from APPLIANCE_SETTINGS_KEYS so every instance holds the same ones: an
 * X25519 key pair per key (the gateway seals the appliance settings to the active one), and the keyring the
 * client secret is sealed with at rest (AES-256-GCM envelopes naming their key id).
 */
@Injectable()
export class ApplianceKeys implements OnModuleInit {
  private readonly keys = Keyring.parse(loadConfig(sessionReportingConfig).APPLIANCE_SETTINGS_KEYS);
  readonly atRest = this.keys.derive(AT_REST_LABEL);
  private pairs = new Map<string, SealingKeyPair>();
  private activeKid = this.keys.activeKeyId;

  async onModuleInit(): Promise<void> {
    const pairs = new Map<string, SealingKeyPair>();
    for (const { id, material, active } of this.keys.deriveMaterial(SEALING_LABEL)) {
      pairs.set(id, await SealingKeyPair.derive(material, SEALING_LABEL, id));
      if (active) this.activeKid = id;
    }
    this.pairs = pairs;
  }

  publicKey(): SealingPublicKey {
    const pair = this.pairs.get(this.activeKid);
    if (!pair) throw new OpenEcmError('SERVICE_UNAVAILABLE', 'session-reporting is still starting');
    return pair.publicKey;
  }

  /** A box that does not open with these keys is refused as invalid input, naming the field, never the content. */
  async open(box: SealedBox, context: SealContext, field: string): Promise<unknown> {
    const pair = this.pairs.get(box.kid ?? this.activeKid);
    const value = pair ? await pair.open(box, context) : undefined;
    if (value === undefined) {
      throw new OpenEcmError('VALIDATION_FAILED', `${field} is not sealed to a key of this session-reporting`, [
        { field, message: pair ? 'does not open with the session-reporting key it names' : `sealed to key "${box.kid}", which session-reporting does not hold` },
      ]);
    }
    return value;
  }
}
