// Decoding constraints over token ids (grammar/syntax constraints, monitors). The decode loop
// checks the sampled token first and builds a full mask only when that token is rejected; a
// speculative draft is checked token by token and rejected positions roll back.

export interface Constraint {
  readonly name: string;
  /** Fast path: may `token` come next in the current state? */
  check(token: number): boolean;
  /**
   * Slow path, only after `check` rejected the sampled token: sets allowed[id] = 1 for every
   * permitted id (allowed has the logits width and arrives zeroed). Returns false when the
   * constraint could not decide within its time budget: the caller then leaves this step unconstrained.
   */
  mask(allowed: Uint8Array): boolean;
  /**
   * For a speculative draft position (the model has not chosen it yet): like `check`, but may
   * reject where deciding would start expensive work that a rejected draft wastes (a monitor's
   * static-analysis query). A rejection only shortens the draft. Default: `check`.
   */
  checkDraft?(token: number): boolean;
  /** Moves the state past `token` (which passed `check`, or was forced by an unconstrained step). */
  advance(token: number): void;
  /** Undoes the last `n` advances (rejected speculative positions). */
  rollback(n: number): void;
  /**
   * May the completion end in the current state? The decode loop ends a completion only where this
   * holds: text that ends elsewhere (token budget, line limit, …) is cut back (constraint-end.ts).
   */
  canStop(): boolean;
  /**
   * Finishing: decoding ended (or the model chose to end) where `canStop()` does not hold, and the
   * loop asks for a few more tokens that only close what is open. Sets allowed[id] = 1 for the
   * tokens that bring the state closer to a place where the completion may end (the syntax
   * constraint: a closing bracket or quote, or a token after which it may end). Returns false when
   * there is none; then the completion is cut back instead (constraint-end.ts).
   */
  finishMask?(allowed: Uint8Array): boolean;
  /** The completion should end now (e.g. it just closed what the suffix already closes). */
  shouldStop?(): boolean;
  /**
   * Async work the constraint needs before the next step (a monitor querying static analysis).
   * The loop awaits it; the constraint applies its own time budget and resolves unconstrained on timeout.
   */
  pending?(): Promise<void> | undefined;
  /**
   * A preference among the tokens it allows at this position (a monitor favouring the legal names
   * the document already uses): token id → amount added to its logit before choosing. The loop
   * asks at every position it decides, draft positions included, so speculative decoding still
   * gives exactly the plain loop's output.
   */
  bias?(): ReadonlyMap<number, number> | undefined;
  /** Releases what the constraint holds (a grammar matcher goes back to its pool for the next keystroke). */
  dispose?(): void;
}

/** The intersection of several constraints: a token is allowed when every member allows it. */
export function intersect(constraints: readonly Constraint[]): Constraint {
  // finishMask: the members that finish first (they say which tokens close), then the others.
  const finishers = constraints.filter((c) => c.finishMask !== undefined);
  const finishOrder = [...finishers, ...constraints.filter((c) => c.finishMask === undefined)];
  return {
    name: constraints.map((c) => c.name).join('+'),
    check: (token) => constraints.every((c) => c.check(token)),
    checkDraft: (token) => constraints.every((c) => (c.checkDraft !== undefined ? c.checkDraft(token) : c.check(token))),
    mask(allowed) {
      let decided = false;
      let first = true;
      const scratch = new Uint8Array(allowed.length);
      for (const c of constraints) {
        scratch.fill(0);
        if (!c.mask(scratch)) continue;
        if (first) allowed.set(scratch);
        else for (let i = 0; i < allowed.length; i++) allowed[i] = (allowed[i] ?? 0) & (scratch[i] ?? 0);
        first = false;
        decided = true;
      }
      return decided;
    },
    advance: (token) => constraints.forEach((c) => c.advance(token)),
    rollback: (n) => constraints.forEach((c) => c.rollback(n)),
    canStop: () => constraints.every((c) => c.canStop()),
    // Members that finish say which tokens close; the others only have to allow them.
    ...(finishers.length > 0
      ? {
          finishMask(allowed: Uint8Array): boolean {
            const scratch = new Uint8Array(allowed.length);
            let first = true;
            for (const c of finishOrder) {
              scratch.fill(0);
              const decided = c.finishMask !== undefined ? c.finishMask(scratch) : c.mask(scratch);
              if (!decided) {
                if (c.finishMask !== undefined) return false;
                continue; // a mask over its time budget leaves the step to the others
              }
              if (first) allowed.set(scratch);
              else for (let i = 0; i < allowed.length; i++) allowed[i] = (allowed[i] ?? 0) & (scratch[i] ?? 0);
              first = false;
            }
            return allowed.some((a) => a === 1);
          },
        }
      : {}),
    shouldStop: () => constraints.some((c) => c.shouldStop?.() === true),
    pending() {
      const waits = constraints.map((c) => c.pending?.()).filter((p): p is Promise<void> => p !== undefined);
      return waits.length === 0 ? undefined : Promise.all(waits).then(() => undefined);
    },
    bias() {
      let sum: Map<number, number> | undefined;
      for (const c of constraints) {
        const b = c.bias?.();
        if (b === undefined || b.size === 0) continue;
        sum ??= new Map();
        for (const [id, v] of b) sum.set(id, (sum.get(id) ?? 0) + v);
      }
      return sum;
    },
    dispose: () => constraints.forEach((c) => c.dispose?.()),
  };
}
