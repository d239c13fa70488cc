import { readTerminateAnswer } from './session-terminator.consumer';

const NS = 'https://www.beyondtrust.com/namespaces/API/command';
const doc = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;

describe('the answer to terminate_session', () => {
  it('reads <success> as terminated', () => {
    expect(readTerminateAnswer(doc(`<success xmlns="${NS}">Successfully terminated</success>`))).toEqual({ ok: true });
  });

  it('reads <error> as refused, with its message on one bounded line', () => {
    expect(readTerminateAnswer(doc(`<error xmlns="${NS}">No active session\nwith that lsid</error>`))).toEqual({ ok: false, message: 'No active session with that lsid' });
    const long = readTerminateAnswer(doc(`<error xmlns="${NS}">${'x'.repeat(5000)}</error>`));
    expect(long).toEqual({ ok: false, message: 'x'.repeat(200) });
  });

  it('throws for an answer that is neither, or of another namespace, so the revocation is tried again', () => {
    expect(() => readTerminateAnswer(doc(`<appliance xmlns="${NS}"><version>24.3.1</version></appliance>`))).toThrow('<appliance>');
    expect(() => readTerminateAnswer(doc(`<success xmlns="urn:other">ok</success>`))).toThrow('namespace');
    expect(() => readTerminateAnswer('<html><body>502 Bad Gateway')).toThrow();
  });
});
