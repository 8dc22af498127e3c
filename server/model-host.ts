// Owns the loaded model: loads it from the settings, reloads when a reload key changes, reports
// state changes, and retries after an error so that fixing the files on disk also recovers.
import * as path from 'node:path';
import { loadModel, type LoadedModel } from './runtime/load-model';
import { modelReloadKeys, type ModelState, type SpecterSettings } from './protocol';

export interface HostStatus {
  state: ModelState;
  message: string;
  modelName?: string;
  executionProvider?: string;
  warning?: string;
}

export type Log = (message: string) => void;

/** Minimum time between automatic load retries while in the error state. */
const tRetryMs = 5_000;

export class ModelHost {
  private model: LoadedModel | undefined;
  private loading: Promise<LoadedModel | undefined> | undefined;
  private status: HostStatus = { state: 'loading', message: 'Starting' };
  private settings: SpecterSettings | undefined;
  private tLastAttemptMs = 0;
  /** Bumped on every (re)configuration so a stale load never installs its model. */
  private generation = 0;

  constructor(
    private readonly defaultModelDir: string,
    private readonly log: Log,
    private readonly onStatus: (status: HostStatus) => void,
  ) {}

  get current(): HostStatus {
    return this.status;
  }

  /** The model directory the settings point at (the embedded default when empty). */
  modelDir(settings: SpecterSettings): string {
    return settings.model.trim() === '' ? this.defaultModelDir : path.resolve(settings.model.trim());
  }

  /** Applies new settings; loads, reloads or unloads the model as needed. */
  async configure(settings: SpecterSettings): Promise<void> {
    const previous = this.settings;
    this.settings = settings;
    if (!settings.enabled) {
      this.setStatus({ state: 'disabled', message: 'Completions are turned off (specter.enabled)' });
      return;
    }
    const keysChanged = previous === undefined || modelReloadKeys.some((key) => previous[key] !== settings[key]);
    // A load already running for the same model settings serves these settings too (the client's
    // first didChangeConfiguration arrives while the initial load runs).
    if (!keysChanged && this.loading !== undefined) {
      await this.loading;
      return;
    }
    if (keysChanged || this.model === undefined) {
      await this.reload();
    } else {
      this.setStatus(this.readyStatus(this.model));
    }
  }

  /** The loaded model, loading it first when needed; undefined while unusable (see `current`). */
  async acquire(): Promise<LoadedModel | undefined> {
    if (this.settings === undefined || !this.settings.enabled) return undefined;
    if (this.model !== undefined) return this.model;
    if (this.loading !== undefined) return this.loading;
    if (this.status.state === 'error' && Date.now() - this.tLastAttemptMs < tRetryMs) return undefined;
    return this.reload();
  }

  /** Frees the model (idle unload, shutdown). */
  async unload(): Promise<void> {
    this.generation++;
    const model = this.model;
    this.model = undefined;
    if (model !== undefined) await model.dispose();
  }

  reload(): Promise<LoadedModel | undefined> {
    const settings = this.settings;
    if (settings === undefined) return Promise.resolve(undefined);
    const generation = ++this.generation;
    const run = async (): Promise<LoadedModel | undefined> => {
      const old = this.model;
      this.model = undefined;
      if (old !== undefined) await old.dispose();
      const dir = this.modelDir(settings);
      this.tLastAttemptMs = Date.now();
      this.setStatus({ state: 'loading', message: `Loading ${path.basename(dir)}` });
      this.log(`Loading model from ${dir} (variant ${settings.modelVariant}, provider ${settings.executionProvider}, threads ${settings.threads || 'default'})`);
      const outcome = await loadModel(dir, {
        variant: settings.modelVariant,
        executionProvider: settings.executionProvider,
        threads: settings.threads,
        threadSpinning: settings.threadSpinning,
        log: this.log,
      });
      if (generation !== this.generation) {
        if (outcome.ok) await outcome.value.dispose();
        return this.model;
      }
      if (!outcome.ok) {
        this.log(`Model load failed [${outcome.error.code}]: ${outcome.error.message}`);
        this.setStatus({ state: 'error', message: outcome.error.message });
        return undefined;
      }
      const model = outcome.value;
      for (const warning of model.warnings) this.log(`Warning: ${warning}`);
      this.log(`Model ${model.name} ready on ${model.executionProvider} in ${Math.round(model.tLoadMs)} ms`);
      this.model = model;
      this.setStatus(this.readyStatus(model));
      return model;
    };
    const loading = run().finally(() => {
      if (this.loading === loading) this.loading = undefined;
    });
    this.loading = loading;
    return loading;
  }

  private readyStatus(model: LoadedModel | undefined): HostStatus {
    if (model === undefined) return this.status;
    const status: HostStatus = {
      state: 'ready',
      message: `${model.name} ready`,
      modelName: model.name,
      executionProvider: model.executionProvider,
    };
    if (model.warnings.length > 0) status.warning = model.warnings.join('; ');
    return status;
  }

  private setStatus(status: HostStatus): void {
    this.status = status;
    this.onStatus(status);
  }
}
