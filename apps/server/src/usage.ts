/** A mistake in how the CLI was called: printed without a stack trace, exit status 2 (or as given). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}
