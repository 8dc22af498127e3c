// The typing layer as the language server wires it: one accelerator over the one service.
import type { CompletionService } from '../completion-service';
import type { Log, ModelHost } from '../model-host';
import type { LoadedModel } from '../runtime/load-model';
import { TypingAccelerator, type AcceleratorOptions } from './accelerator';

export { TypingAccelerator } from './accelerator';
export { adaptiveDebounce, TypingRhythm, type DebounceInput, type DebounceDecision } from './debounce-policy';

export function createTypingAccelerator(service: CompletionService, host: ModelHost, log: Log, options: AcceleratorOptions = {}): TypingAccelerator<LoadedModel> {
  return new TypingAccelerator<LoadedModel>(service, host, log, options);
}
