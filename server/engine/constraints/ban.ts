// A constraint that rules out given tokens at given positions of the completion (counted from its
// first generated token) and allows everything else: decoding again without the token after
// which a finished completion went wrong (the first of specter.constraints.parseRetries).
import type { Constraint } from '../constraint';

export interface Ban {
  /** Tokens generated before the banned one. */
  readonly at: number;
  readonly token: number;
}

export class BanConstraint implements Constraint {
  readonly name = 'ban';
  private n = 0;

  constructor(private readonly bans: readonly Ban[]) {}

  private banned(token: number): boolean {
    return this.bans.some((b) => b.at === this.n && b.token === token);
  }

  check(token: number): boolean {
    return !this.banned(token);
  }

  mask(allowed: Uint8Array): boolean {
    allowed.fill(1);
    for (const b of this.bans) if (b.at === this.n && b.token >= 0 && b.token < allowed.length) allowed[b.token] = 0;
    return true;
  }

  advance(_token: number): void {
    this.n++;
  }

  rollback(n: number): void {
    this.n = Math.max(0, this.n - n);
  }

  canStop(): boolean {
    return true;
  }
}
