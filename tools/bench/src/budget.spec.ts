import { budgetLines } from './budget';

describe('what the targets leave for the broker', () => {
  it('takes the simulator and the load generator off the cores, per call', () => {
    const [list, inject] = budgetLines(2, { list: { broker: 1.5, 'password-safe-sim': 0.5, 'load-generator': 0.25 }, inject: { broker: 8, 'password-safe-sim': 1, 'load-generator': 0.5 } }, 500);
    // 2 cores at 1,000 lists/s: 2 ms per list, 0.75 of it beside the broker
    expect(list).toContain('2.00 ms of CPU per call for everything on the machine');
    expect(list).toContain('leaving 1.25 ms for the broker, which used 1.50 (0.25 ms over it)');
    // 2 cores at 300 injections/s: 6.67 ms per injection, 1.5 beside
    expect(inject).toContain('300 injections/s on 2 cores: 6.67 ms');
    expect(inject).toContain('leaving 5.17 ms for the broker, which used 8.00 (2.83 ms over it)');
  });

  it('says what is to spare when the broker fits', () => {
    const [list] = budgetLines(4, { list: { broker: 1, 'password-safe-sim': 0.5, 'load-generator': 0.5 }, inject: undefined }, 500);
    expect(list).toContain('leaving 3.00 ms for the broker, which used 1.00 (within it, 2.00 ms to spare)');
  });
});
