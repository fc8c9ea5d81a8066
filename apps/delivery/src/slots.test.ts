import { describe, expect, it } from 'vitest';
import { Slots } from './slots.js';

const a = (origin: string, id: number) => ({ origin, id });
const ids = (list: { id: number }[]) => list.map((x) => x.id);

describe('Slots', () => {
  it('sends what waits, per origin in claim order, within the per-origin cap', () => {
    const slots = new Slots<ReturnType<typeof a>>(256, 2);
    slots.enqueue([a('A', 1), a('A', 2), a('A', 3), a('B', 4)]);
    expect(ids(slots.takeSendable())).toEqual([1, 4, 2]);
    expect(slots).toMatchObject({ onWire: 3, queued: 1 });
    expect(slots.takeSendable()).toEqual([]);
    slots.answered('A');
    expect(ids(slots.takeSendable())).toEqual([3]);
    expect(slots.held()).toEqual(new Map([['A', 2], ['B', 1]]));
  });

  it('keeps within the global cap, taking origins in turn', () => {
    const slots = new Slots<ReturnType<typeof a>>(3, 16);
    slots.enqueue([a('A', 1), a('A', 2), a('A', 3), a('B', 4), a('B', 5)]);
    expect(ids(slots.takeSendable())).toEqual([1, 4, 2]);
    slots.answered('B');
    expect(ids(slots.takeSendable())).toEqual([3]);
  });

  it('sends within the limits of the latest claim: the caps less what other processes hold', () => {
    const slots = new Slots<ReturnType<typeof a>>(256, 16);
    slots.setLimits({ global: 256, perOrigin: new Map([['A', 1]]), perOriginCap: 16 });
    slots.enqueue([a('A', 1), a('A', 2), a('B', 3)]);
    expect(ids(slots.takeSendable())).toEqual([1, 3]);
    slots.setLimits({ global: 256, perOrigin: new Map([['A', 0]]), perOriginCap: 16 });
    slots.answered('A');
    expect(slots.takeSendable()).toEqual([]);
    slots.setLimits({ global: 256, perOrigin: new Map(), perOriginCap: 16 });
    expect(ids(slots.takeSendable())).toEqual([2]);
  });

  it('counts what waits and what is on the wire as held, and gives back what waits', () => {
    const slots = new Slots<ReturnType<typeof a>>(256, 1);
    slots.enqueue([a('A', 1), a('A', 2), a('A', 3)]);
    slots.takeSendable();
    expect(slots.held()).toEqual(new Map([['A', 3]]));
    expect(ids(slots.removeWaiting((x) => x.id === 3))).toEqual([3]);
    expect(ids(slots.drain())).toEqual([2]);
    expect(slots).toMatchObject({ onWire: 1, queued: 0 });
    expect(slots.held()).toEqual(new Map([['A', 1]]));
  });

  it('keeps what is sent and not yet recorded within twice the cap per origin', () => {
    const slots = new Slots<ReturnType<typeof a>>(256, 2);
    slots.enqueue([1, 2, 3, 4, 5, 6].map((id) => a('A', id)));
    expect(ids(slots.takeSendable())).toEqual([1, 2]);
    slots.answered('A');
    slots.answered('A');
    expect(ids(slots.takeSendable())).toEqual([3, 4]);
    slots.answered('A');
    // 1 on the wire, 3 answered and unrecorded: at twice the cap.
    expect(slots.takeSendable()).toEqual([]);
    slots.recorded('A');
    expect(ids(slots.takeSendable())).toEqual([5]);
  });

  it('refuses to free a slot nobody holds', () => {
    expect(() => new Slots(1, 1).answered('A')).toThrow(/no slot held/);
    expect(() => new Slots(1, 1).recorded('A')).toThrow(/no answered attempt/);
  });
});
