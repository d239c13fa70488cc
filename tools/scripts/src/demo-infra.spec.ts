import { freePortBesides } from './demo-infra';

describe('a private server port', () => {
  it('is never one the demo has told its own servers to listen on', async () => {
    // the first two free ports found are the gateway's and a simulator's, told to the demo but not bound yet
    const found = [8080, 8091, 41000];
    const port = await freePortBesides([8080, 8091, 8094], async () => found.shift() as number);
    expect(port).toBe(41000);
  });

  it('gives up with a clear error rather than loop', async () => {
    await expect(freePortBesides([8080], async () => 8080)).rejects.toThrow('no free port besides 8080 after 20 tries');
  });
});
