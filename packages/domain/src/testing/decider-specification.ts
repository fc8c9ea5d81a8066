import { expect } from 'vitest';
import { DomainError, foldState, type Decider } from '../decider.js';

/**
 * Given/when/then for deciders, after Emmett's `DeciderSpecification`:
 * `spec.given(pastEvents).when(command).then(expectedEvents)` or
 * `.thenThrows(reason)` for a rejection (matched on `DomainError.reason`).
 */
export function deciderSpecification<State, Command, Event>(decider: Decider<State, Command, Event>) {
  return {
    given(events: Event[]) {
      return {
        when(command: Command) {
          const run = () => decider.decide(command, foldState(decider, events));
          return {
            then(expected: Event[]) {
              expect(run()).toEqual(expected);
            },
            thenNothingHappens() {
              expect(run()).toEqual([]);
            },
            thenThrows(reason: string) {
              let thrown: unknown;
              try {
                run();
              } catch (error) {
                thrown = error;
              }
              expect(thrown).toBeInstanceOf(DomainError);
              expect((thrown as DomainError).reason).toBe(reason);
            },
          };
        },
      };
    },
  };
}
