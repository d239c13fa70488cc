/**
 * One process of the bare chain (bare-chain.ts): a list's path through the broker with nothing but the libraries
 * the services use for it. `node bare-chain-node.ts <role> <subject prefix> <port>`:
 * - `vault`: an HTTP stub answering a ManagedAccounts call with one account;
 * - `vault-adapters`: answers `<prefix>.vault` over NATS after two HTTP calls to the stub (undici's request on a
 *   keep-alive pool, as the Password Safe adapter makes for a system's local and domain-linked accounts);
 * - `policy-approval`: answers `<prefix>.policy` after asking `<prefix>.vault`;
 * - `appliance-gateway`: an HTTP server answering each GET after asking `<prefix>.policy`.
 * Every NATS connection is the services' own (connectNats). No framework, validation, policy, cache, audit or
 * tracing: what is left is the processes, the sockets and the JSON of each hop. Prints `ready` once it serves.
 */
import { connectNats } from '@openecm/messaging';
import { createServer } from 'node:http';
import { Agent, request } from 'undici';

const [role, prefix, portText] = process.argv.slice(2) as [string, string, string];
const port = Number(portText);
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const parse = (data: Uint8Array) => JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString()) as Record<string, unknown>;

async function serve(): Promise<void> {
  if (role === 'vault') {
    const account = [{ SystemId: 1, SystemName: 'srv-app01', AccountId: 7, AccountName: 'svc-app', DomainName: null }];
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(account));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return;
  }
  const nc = await connectNats({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
  if (role === 'vault-adapters') {
    const agent = new Agent({ keepAliveTimeout: 10_000 });
    const accounts = async (query: string) => {
      const res = await request(`http://127.0.0.1:${port}/BeyondTrust/api/public/v3/ManagedAccounts?${query}`, { dispatcher: agent });
      return (await res.body.json()) as unknown[];
    };
    nc.subscribe(`${prefix}.vault`, {
      queue: 'bare',
      callback: (_error, msg) => {
        const { endpoint } = parse(msg.data);
        void Promise.all([accounts(`systemName=${String(endpoint)}`), accounts('type=domainlinked')]).then(([local, linked]) => msg.respond(json({ accounts: [...local, ...linked] })));
      },
    });
  } else if (role === 'policy-approval') {
    nc.subscribe(`${prefix}.policy`, {
      queue: 'bare',
      callback: (_error, msg) => {
        const { user, endpoint } = parse(msg.data);
        void nc.request(`${prefix}.vault`, json({ user, endpoint }), { timeout: 5_000 }).then((answer) => {
          const { accounts } = parse(answer.data) as { accounts: Array<{ AccountId: number; AccountName: string }> };
          msg.respond(json({ credentials: accounts.map((a) => ({ id: `c${a.AccountId}`, name: a.AccountName })), pending: [] }));
        });
      },
    });
  } else if (role === 'appliance-gateway') {
    const server = createServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://gateway').searchParams;
      nc.request(`${prefix}.policy`, json({ user: query.get('user'), endpoint: query.get('endpoint') }), { timeout: 5_000 }).then(
        (answer) => {
          res.setHeader('content-type', 'application/json');
          res.end(answer.data);
        },
        () => {
          res.statusCode = 503;
          res.end();
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  } else {
    throw new Error(`unknown role ${role}`);
  }
  await nc.flush();
}

serve().then(
  () => process.stdout.write('ready\n'),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
