// Runs the embedded model the way the completion service does (FIM prompt, the standard stopping
// criteria, greedy) with an optional constraint. Until the decode loop takes a Constraint, the
// constraint is applied through a logits processor, which for greedy decoding gives the same
// tokens as the loop's check-first protocol: the processor advances the constraint over the
// tokens appended since its last call, checks the argmax, and masks only if it is rejected
// (shouldStop: only the stop token is left).
import { join } from 'node:path';
import { buildPrompt } from '../../server/context/prompt';
import { discoverFimTemplate } from '../../server/context/fim';
import type { Constraint } from '../../server/engine/constraint';
import { maskLogits } from '../../server/engine/constraints/apply';
import { decode } from '../../server/engine/decode';
import type { LogitsProcessor } from '../../server/engine/processors';
import { createRng } from '../../server/engine/rng';
import { makeStopCriteria } from '../../server/engine/stopping';
import { loadModel, type LoadedModel } from '../../server/runtime/load-model';

export const modelDir = join(__dirname, '..', '..', 'models', 'specter-tiny');

export async function loadEmbedded(): Promise<LoadedModel> {
  const r = await loadModel(modelDir, { variant: 'model', executionProvider: 'cpu', threads: 0, log: () => undefined });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

export interface RunStats {
  nChecks: number;
  nRejected: number;
  nForcedStops: number;
}

/** Follows the generated tokens; remembers the last length at which the completion could end. */
class Tracker {
  nSeen = 0;
  lastSafe = 0;
  constructor(private readonly c: Constraint) {}
  follow(generated: readonly number[]): void {
    for (; this.nSeen < generated.length; this.nSeen++) {
      this.c.advance(generated[this.nSeen] as number);
      if (this.c.canStop()) this.lastSafe = this.nSeen + 1;
    }
  }
}

function constraintProcessor(c: Constraint, tracker: Tracker, promptLength: number, nVocab: number, stopId: number, stats: RunStats): LogitsProcessor {
  return {
    process(row, sequence) {
      tracker.follow(sequence.slice(promptLength));
      let best = 0;
      for (let i = 1; i < nVocab; i++) if ((row[i] as number) > (row[best] as number)) best = i;
      stats.nChecks++;
      if (c.check(best)) return;
      stats.nRejected++;
      if (c.shouldStop?.() === true) {
        stats.nForcedStops++;
        row.fill(Number.NEGATIVE_INFINITY);
        row[stopId] = 0;
        return;
      }
      const allowed = new Uint8Array(row.length);
      if (c.mask(allowed)) maskLogits(row, allowed);
    },
  };
}

export interface CompleteOptions {
  languageId: string;
  path: string;
  prefix: string;
  suffix: string;
  constraint?: Constraint;
  maxTokens?: number;
  maxLines?: number;
  /** Cut a completion the loop ended where the constraint does not allow it back to the last allowed end (default true). */
  trimToSafeStop?: boolean;
}

export async function complete(model: LoadedModel, o: CompleteOptions, stats: RunStats): Promise<string> {
  const template = discoverFimTemplate(model.tokenizer, model.config.fim);
  const prompt = buildPrompt(model.tokenizer, template, { path: o.path, languageId: o.languageId, prefix: o.prefix, suffix: o.suffix }, { maxPrefixTokens: 768, maxSuffixTokens: 192 });
  const nVocab = Math.min(model.lm.vocabSize, model.tokenizer.vocabSize);
  const stopId = [...model.tokenizer.stopIds, ...prompt.stopIds][0] as number;
  const tracker = o.constraint !== undefined ? new Tracker(o.constraint) : undefined;
  const outcome = await decode(model.lm, model.tokenizer, {
    prompt: prompt.ids,
    maxTokens: o.maxTokens ?? 64,
    sampling: { temperature: 0, topP: 1 },
    rng: createRng(0),
    stops: makeStopCriteria({ prefix: o.prefix, suffix: o.suffix, maxLines: o.maxLines ?? 8, timeCapAfterNewlineMs: 60_000, stopIds: prompt.stopIds }),
    processors: o.constraint !== undefined && tracker !== undefined ? [constraintProcessor(o.constraint, tracker, prompt.ids.length, nVocab, stopId, stats)] : [],
  });
  if (outcome.kind === 'error') throw new Error(outcome.message);
  if (tracker === undefined || o.trimToSafeStop === false) return outcome.text;
  // The loop ended for its own reasons (token budget, line limit): keep the completion only up to
  // the last point where the constraint allows it to end.
  const generated = outcome.tokens.filter((id) => !model.tokenizer.stopIds.has(id));
  tracker.follow(generated);
  if (tracker.lastSafe >= generated.length) return outcome.text;
  const safe = model.tokenizer.decode(generated.slice(0, tracker.lastSafe));
  return outcome.text.length <= safe.length ? outcome.text : safe;
}
