// Frees the model after `idleUnloadMinutes` without completion requests. The next request loads
// it again (ModelHost.acquire). Never unloads under a running request: it re-arms instead.

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    // An idle timer must not keep the process alive.
    handle.unref();
    return handle;
  },
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class IdleUnloader {
  private handle: unknown;
  private tIdleMs = 0;
  /** The model was unloaded by us and no request has come since. */
  unloaded = false;
  nUnloads = 0;

  constructor(
    private readonly unload: () => Promise<void>,
    private readonly busy: () => boolean,
    private readonly timers: Timers = realTimers,
  ) {}

  /** 0 = never. */
  configure(minutes: number): void {
    this.tIdleMs = Math.max(0, minutes) * 60_000;
    this.arm();
  }

  /** A completion request arrived (it will load the model again if needed). */
  touch(): void {
    this.unloaded = false;
    this.arm();
  }

  dispose(): void {
    if (this.handle !== undefined) this.timers.clear(this.handle);
    this.handle = undefined;
  }

  private arm(): void {
    this.dispose();
    if (this.tIdleMs <= 0 || this.unloaded) return;
    this.handle = this.timers.set(() => void this.fire(), this.tIdleMs);
  }

  private async fire(): Promise<void> {
    this.handle = undefined;
    if (this.busy()) {
      this.arm();
      return;
    }
    this.unloaded = true;
    this.nUnloads++;
    await this.unload();
  }
}
