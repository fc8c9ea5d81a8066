/**
 * A decider (Emmett, Jérémie Chassaing): the whole business logic of one
 * stream as three pure functions. `decide` turns a command and the current
 * state into the events to append (none when nothing changes) or throws a
 * `DomainError`; `evolve` folds one event into the state.
 */
export interface Decider<State, Command, Event> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** The state a stream's events fold into. */
export function foldState<State, Event>(decider: Pick<Decider<State, never, Event>, 'evolve' | 'initialState'>, events: readonly Event[]): State {
  return events.reduce(decider.evolve, decider.initialState());
}

/** How adapters should surface a rejection: HTTP 404, 409, 400, or 503 (`unavailable`: try again later). */
export type DomainErrorKind = 'not_found' | 'conflict' | 'invalid' | 'unavailable';

/** A command the rules reject. Typed so adapters map it without string matching. */
export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
