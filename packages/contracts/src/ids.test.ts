import { describe, expect, it } from 'vitest';
import { createIdGenerator, parseWorkerId, workerId } from './ids.js';

describe('ids', () => {
  it('builds and parses worker ids, org ids with underscores included', () => {
    const id = workerId('org_123', '01HZY2ZJQ8G7K42W2D7WF6V4GM');
    expect(id).toBe('t_org_123_w_01HZY2ZJQ8G7K42W2D7WF6V4GM');
    expect(parseWorkerId(id)).toEqual({ organizationId: 'org_123', ulid: '01HZY2ZJQ8G7K42W2D7WF6V4GM' });
  });

  it.each(['', 't_org_w_', 't__w_01HZY2ZJQ8G7K42W2D7WF6V4GM', 't_org_w_01HZY2ZJQ8G7K42W2D7WF6V4G', 'x_org_w_01HZY2ZJQ8G7K42W2D7WF6V4GM', 't_org_w_01HZY2ZJQ8G7K42W2D7WF6V4GU', "t_o'rg_w_01HZY2ZJQ8G7K42W2D7WF6V4GM"])(
    'rejects malformed worker id %j',
    (id) => expect(parseWorkerId(id)).toBeNull(),
  );

  it('mints prefixed, time-ordered ULIDs that sort in creation order within a millisecond', () => {
    const ids = createIdGenerator(() => 1_700_000_000_000);
    const minted = Array.from({ length: 100 }, () => ids.executionId());
    expect(minted.every((id) => /^whe_[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true);
    expect([...minted].sort()).toEqual(minted);
    expect(ids.apiKeyId()).toMatch(/^key_/);
    expect(ids.deliveryId()).toMatch(/^msg_/);
  });
});
