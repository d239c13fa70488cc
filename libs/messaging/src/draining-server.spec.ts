import { InFlight } from './draining-server';

describe('InFlight', () => {
  it('is idle at once when nothing runs, and when the last piece of work ends', async () => {
    const work = new InFlight();
    await expect(work.idle(1000)).resolves.toBe(true);
    const a = work.begin();
    const b = work.begin();
    const idle = work.idle(10_000);
    a();
    a(); // ending twice counts once
    expect(work.size).toBe(1);
    b();
    await expect(idle).resolves.toBe(true);
  });

  it('gives up after the timeout while work is still running', async () => {
    const work = new InFlight();
    work.begin();
    await expect(work.idle(20)).resolves.toBe(false);
    expect(work.size).toBe(1);
  });
});
