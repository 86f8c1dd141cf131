import { describe, expect, it } from 'vitest';
import { runTimeHeaders, signRunTime, verifiedRunTime } from '../../protocol/run-time.ts';

const secret = 'a-shared-secret-of-at-least-32-characters';

describe('signed backend run time', () => {
  it('reads back the run time the backend signed for this request', async () => {
    const headers = new Headers(await signRunTime(secret, 'req-1', 123.4567));
    expect(headers.get(runTimeHeaders.runMs)).toBe('123.457');
    expect(await verifiedRunTime(secret, 'req-1', headers)).toBe(123.457);
  });

  it('trusts no time that is unsigned, altered, signed for another request or with another secret', async () => {
    const signed = await signRunTime(secret, 'req-1', 40);
    const altered = new Headers({ ...signed, [runTimeHeaders.runMs]: '4000.000' });
    expect(await verifiedRunTime(secret, 'req-1', altered)).toBeUndefined();
    expect(await verifiedRunTime(secret, 'req-2', new Headers(signed))).toBeUndefined();
    expect(await verifiedRunTime(`${secret}-other`, 'req-1', new Headers(signed))).toBeUndefined();
    expect(await verifiedRunTime(secret, 'req-1', new Headers({ [runTimeHeaders.runMs]: '40.000' }))).toBeUndefined();
    const malformed = new Headers({ ...signed, [runTimeHeaders.runMs]: '4e1' });
    expect(await verifiedRunTime(secret, 'req-1', malformed)).toBeUndefined();
  });
});
