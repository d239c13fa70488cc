import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Context switches a process asked for (it slept and was woken), from /proc. */
function wakeups(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1]);
}

describe('metrics', () => {
  it('lets an idle app sleep: the event-loop lag sampling wakes it about ten times a second, not a hundred', async () => {
    const script = [
      "require('@swc-node/register');",
      "const { metricsRegistry } = require('./libs/telemetry/src/metrics.ts');",
      // the lag metric is served as before
      "metricsRegistry.metrics().then((text) => { process.stdout.write(text.includes('nodejs_eventloop_lag_p99_seconds') ? 'ready' : 'no lag metric'); });",
      'setInterval(() => undefined, 60_000);',
    ].join('\n');
    const child = spawn(process.execPath, ['-e', script], { cwd: resolve(__dirname, '../../..'), stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const said = await new Promise<string>((done) => child.stdout.once('data', (d: Buffer) => done(String(d))));
      expect(said).toBe('ready');
      const pid = child.pid as number;
      const before = wakeups(pid);
      await new Promise((r) => setTimeout(r, 2000));
      // 10 ms sampling made about 195 a second; 100 ms about 20 (a little more from the runtime's own threads)
      expect((wakeups(pid) - before) / 2).toBeLessThan(60);
    } finally {
      child.kill();
    }
  });
});
