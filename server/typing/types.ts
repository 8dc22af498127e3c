// What the typing layer needs of the service, the model host and the model: narrow structural
// views, so CompletionService / ModelHost / LoadedModel satisfy them and unit tests use fakes.
import type { InitializeResult } from 'vscode-languageserver';
import type { CompletionRequest, CompletionResult } from '../completion-service';
import type { SpecterSettings, StatsResult } from '../protocol';

/** The model's KV-cache view. `LoadedModel` satisfies it. */
export interface ModelView {
  lm: { readonly cached: readonly number[]; truncate(n: number): void; readonly counters: { nForward: number; nTokens: number } };
}

/** `CompletionService` satisfies it. */
export interface TypingBackend<M extends ModelView> {
  readonly settings: SpecterSettings;
  initialize(options: unknown): InitializeResult;
  updateSettings(raw: unknown): Promise<void>;
  complete(request: CompletionRequest, signal?: AbortSignal): Promise<CompletionResult>;
  promptIds(model: M, request: CompletionRequest): number[];
  stats(): StatsResult;
  shutdown(): Promise<void>;
  /**
   * Open documents fed to speculation (CopySpec). The layer updates it on every change instead of
   * calling `documentChanged`, whose cancel-everything would also stop a prefetch that typing
   * along the suggestion still leads to.
   */
  readonly history?: { update(uri: string, text: string): void };
}

/** `ModelHost` satisfies it. */
export interface ModelSlot<M extends ModelView> {
  readonly current: { state: string };
  acquire(): Promise<M | undefined>;
  unload(): Promise<void>;
}
