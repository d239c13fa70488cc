import { spawn } from 'node:child_process';
import { settle } from './cpu';

describe('settle between bench steps', () => {
  it('waits while a process of the system is busy and answers once it is at rest', async () => {
    // a process busy for 1.5 s, then gone
    const busy = spawn(process.execPath, ['-e', 'const end = Date.now() + 1500; while (Date.now() < end);']);
    const exited = new Promise((resolve) => busy.once('exit', resolve));
    const started = Date.now();
    const settled = await settle({ worker: () => [busy.pid as number], 'load-generator': () => [process.pid] }, 200, 10_000);
    await exited;
    expect(settled.idle).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('gives up after its longest wait and says the system never came to rest', async () => {
    const busy = spawn(process.execPath, ['-e', 'const end = Date.now() + 5000; while (Date.now() < end);']);
    try {
      const settled = await settle({ worker: () => [busy.pid as number] }, 200, 600);
      expect(settled).toMatchObject({ idle: false });
      expect(settled.waitedMs).toBeLessThan(2000);
    } finally {
      busy.kill();
    }
  });

  it('does not wait for the load generator itself', async () => {
    const settling = settle({ 'load-generator': () => [process.pid] }, 200, 2000);
    // this process, the load generator, busy through settle's whole first window: counted, it would need a second
    const end = Date.now() + 300;
    while (Date.now() < end);
    const settled = await settling;
    expect(settled).toMatchObject({ idle: true });
    expect(settled.waitedMs).toBeLessThan(450);
  });
});
