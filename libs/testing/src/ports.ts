import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The lowest port the kernel hands out for an outgoing connection (Linux: ip_local_port_range). */
function ephemeralStart(): number {
  try {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(start) ? start : 32768;
  } catch {
    return 32768;
  }
}

/** Ports are taken below the ephemeral range, in a block of their own for each test worker. */
const LOWEST = 10_000;
const BLOCKS = 16;

/** Ports this process handed out: never handed out twice, bound yet or not. */
const handedOut = new Set<number>();

function listensOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago and that nothing else is about to take. A port the kernel
 * picks (listening on port 0) is from the ephemeral range, which it also hands to outgoing connections and to every
 * other process asking the same, between the moment it is found and the moment its server listens: systems
 * started side by side by parallel test workers took each other's. So the port is taken below that range, from a
 * block of the range that is this worker's own (JEST_WORKER_ID), and never twice by one process.
 */
export async function freePort(): Promise<number> {
  const top = ephemeralStart();
  const size = Math.floor((top - LOWEST) / BLOCKS);
  if (size < 100) return kernelPort();
  const worker = Number(process.env['JEST_WORKER_ID'] ?? 0) % BLOCKS;
  const base = LOWEST + worker * size;
  const first = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = base + ((first + i) % size);
    if (handedOut.has(port)) continue;
    // held before the check, so that calls at the same time never both take it
    handedOut.add(port);
    if (await listensOn(port)) return port;
    handedOut.delete(port);
  }
  return kernelPort();
}

/** A port the kernel picks. */
function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
