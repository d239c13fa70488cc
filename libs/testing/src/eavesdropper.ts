import { connect, type NatsConnection, type Subscription } from 'nats';

/** One message as anyone subscribed to the bus saw it: subject, headers and payload. */
export interface Overheard {
  subject: string;
  headers: string;
  payload: string;
}

/** Where a secret was found: the message's subject, the form it had, and whether in the headers or the payload. */
export interface Sighting {
  subject: string;
  secret: string;
  form: string;
  part: 'headers' | 'payload';
}

/**
 * A process on the bus with no role at all, subscribed to everything it is given (e.g. `<namespace>.>` and
 * `_INBOX.>`): what it keeps is what an attacker on the same NATS would read.
 */
export class BusEavesdropper {
  readonly messages: Overheard[] = [];

  private constructor(
    private readonly nc: NatsConnection,
    private readonly subscriptions: Subscription[],
  ) {}

  static async listen(natsUrl: string, subjects: string[]): Promise<BusEavesdropper> {
    const nc = await connect({ servers: natsUrl, name: 'eavesdropper' });
    const subscriptions: Subscription[] = [];
    const listener = new BusEavesdropper(nc, subscriptions);
    for (const subject of subjects) {
      subscriptions.push(
        nc.subscribe(subject, {
          callback: (_error, msg) => {
            const headers = msg.headers ? [...msg.headers.keys()].map((k) => `${k}: ${(msg.headers?.values(k) ?? []).join(', ')}`).join('\n') : '';
            listener.messages.push({ subject: msg.subject, headers, payload: Buffer.from(msg.data).toString('latin1') });
          },
        }),
      );
    }
    // the subscriptions are known to the server before anything is sent
    await nc.flush();
    return listener;
  }

  /** Subjects seen, with the namespace prefix and inbox tokens as they were. */
  subjects(): string[] {
    return this.messages.map((m) => m.subject);
  }

  async stop(): Promise<void> {
    await this.nc.flush();
    for (const s of this.subscriptions) s.unsubscribe();
    await this.nc.close();
  }
}

/**
 * The runs of base64 that stand for `bytes` wherever they sit in a longer value: one per alignment (the
 * value may start 0, 1 or 2 bytes before them), leaving out the characters the neighbouring bytes change.
 */
function base64Runs(bytes: Buffer): string[] {
  const runs: string[] = [];
  for (const offset of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64').replace(/=+$/, '');
    const start = offset === 0 ? 0 : 4;
    const tail = (offset + bytes.length) % 3;
    const end = tail === 0 ? encoded.length : encoded.length - (tail + 1);
    if (end - start >= 8) runs.push(encoded.slice(start, end));
  }
  return runs;
}

/** Every form a secret may travel in: plain, JSON- and URL-escaped, hex, base64 and base64url. */
export function secretForms(secret: string): Array<{ form: string; text: string }> {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: Array<{ form: string; text: string }> = [
    { form: 'plain', text: secret },
    { form: 'json-escaped', text: JSON.stringify(secret).slice(1, -1) },
    { form: 'url-encoded', text: encodeURIComponent(secret) },
    { form: 'form-encoded', text: new URLSearchParams({ v: secret }).toString().slice(2) },
    { form: 'hex', text: bytes.toString('hex') },
    { form: 'HEX', text: bytes.toString('hex').toUpperCase() },
    { form: 'latin1', text: bytes.toString('latin1') },
  ];
  for (const run of base64Runs(bytes)) {
    forms.push({ form: 'base64', text: run });
    forms.push({ form: 'base64url', text: run.replace(/\+/g, '-').replace(/\//g, '_') });
  }
  const seen = new Set<string>();
  return forms.filter((f) => !seen.has(f.text) && seen.add(f.text));
}

function decodedUrl(text: string): string | undefined {
  try {
    const decoded = decodeURIComponent(text.replace(/\+/g, ' '));
    return decoded === text ? undefined : decoded;
  } catch {
    return undefined;
  }
}

/** Every sighting of any of `secrets`, in any of its forms, in what was overheard (also once URL-decoded). */
export function sightings(messages: readonly Overheard[], secrets: readonly string[]): Sighting[] {
  const found: Sighting[] = [];
  const formsOf = secrets.map((secret) => ({ secret, forms: secretForms(secret) }));
  for (const message of messages) {
    for (const part of ['headers', 'payload'] as const) {
      const raw = message[part];
      const texts = [raw, decodedUrl(raw)].filter((t): t is string => t !== undefined);
      for (const { secret, forms } of formsOf) {
        const hit = forms.find((f) => texts.some((t) => t.includes(f.text)));
        if (hit) found.push({ subject: message.subject, secret, form: hit.form, part });
      }
    }
  }
  return found;
}
