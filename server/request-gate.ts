// "Latest wins" serialisation of completions: the model and its KV cache serve one request at a
// time; a new request aborts the running one and waits for it to stop at its next token. Only the
// newest waiter survives, so requests never queue up behind each other.

export type Gated<T> = { kind: 'ran'; value: T } | { kind: 'superseded' };

export class RequestGate {
  private running: Promise<unknown> | undefined;
  private runningAbort: AbortController | undefined;
  private ticket = 0;

  /** Number of requests currently executing (0 or 1): exposed for leak tests and stats. */
  get nActive(): number {
    return this.running === undefined ? 0 : 1;
  }

  async run<T>(outer: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<Gated<T>> {
    const ticket = ++this.ticket;
    this.runningAbort?.abort();
    while (this.running !== undefined) {
      await this.running.catch(() => undefined);
      // A newer request arrived while we waited: give way to it.
      if (ticket !== this.ticket) return { kind: 'superseded' };
    }
    if (outer?.aborted === true || ticket !== this.ticket) return { kind: 'superseded' };
    const abort = new AbortController();
    const onOuterAbort = (): void => abort.abort();
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    this.runningAbort = abort;
    const running = fn(abort.signal);
    this.running = running;
    try {
      return { kind: 'ran', value: await running };
    } finally {
      outer?.removeEventListener('abort', onOuterAbort);
      if (this.running === running) {
        this.running = undefined;
        this.runningAbort = undefined;
      }
    }
  }

  /** Aborts whatever is running (document changed, shutdown). */
  cancelAll(): void {
    this.ticket++;
    this.runningAbort?.abort();
  }
}
