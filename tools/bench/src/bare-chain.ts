/**
 * The bare chain: a list's path (gateway → policy-approval → vault-adapters → two vault calls) as four processes
 * with nothing but the libraries the services use for it (bare-chain-node.ts), driven closed loop like the broker.
 * Measured in the same run as the broker, it says what this machine gives the design at that moment: the floor a
 * list's CPU cannot go under with these processes, sockets and hops, and how fast the machine is now (its speed
 * drifts by more than a change moves the broker, so two reports compare through it).
 */
import { freePort } from '@openecm/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { request } from 'undici';
import { measureCpu, pidsNamed } from './cpu';
import { closedLoop, type Summary } from './stats';

const ROLES = ['vault', 'vault-adapters', 'policy-approval', 'appliance-gateway'] as const;

export interface BareChain {
  rate: number;
  summary: Summary;
  /** CPU ms per list of each role, of the NATS server, and `all`: the three services' roles and NATS summed. */
  cpu: Record<string, number>;
}

function start(role: string, prefix: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'bare-chain-node.ts'), role, prefix, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bare chain ${role} exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
  });
}

/** Starts the chain, warms it up, and measures `seconds` of lists with `concurrency` in flight. */
export async function measureBareChain(concurrency: number, seconds: number): Promise<BareChain> {
  const prefix = `bare${randomBytes(3).toString('hex')}`;
  const vaultPort = await freePort();
  const gatewayPort = await freePort();
  const children: Partial<Record<(typeof ROLES)[number], ChildProcess>> = {};
  try {
    for (const role of ROLES) children[role] = await start(role, prefix, role === 'appliance-gateway' ? gatewayPort : vaultPort);
    const url = `http://127.0.0.1:${gatewayPort}/api/v1/credentials?user=alice&endpoint=srv-app01`;
    const list = async () => {
      const res = await request(url);
      await res.body.text();
      return res.statusCode === 200;
    };
    await closedLoop(concurrency, 2, list);
    const groups = {
      ...Object.fromEntries(ROLES.map((role) => [role, () => [children[role]?.pid as number]])),
      nats: () => pidsNamed('nats-server'),
    };
    const meter = measureCpu(groups);
    const { rate, summary } = await closedLoop(concurrency, seconds, list);
    const used = meter.stop();
    const count = summary.count;
    const cpu = Object.fromEntries(Object.entries(used).map(([name, ms]) => [name, count > 0 ? ms / count : Number.NaN]));
    cpu['all'] = ['appliance-gateway', 'policy-approval', 'vault-adapters', 'nats'].reduce((sum, name) => sum + (cpu[name] ?? 0), 0);
    return { rate, summary, cpu };
  } finally {
    for (const child of Object.values(children)) {
      child.removeAllListeners('exit');
      child.kill();
    }
  }
}
