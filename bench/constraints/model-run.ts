// Runs the embedded model the way the completion service does (FIM prompt, the standard stopping
// criteria, greedy), with an optional constraint through the decode loop's own hook: check first,
// mask on rejection, and the end rule that cuts a completion ended elsewhere back to the last
// place the constraint allows (server/engine/constraint-end.ts).
import { join } from 'node:path';
import { buildPrompt } from '../../server/context/prompt';
import { discoverFimTemplate } from '../../server/context/fim';
import type { Constraint } from '../../server/engine/constraint';
import { decode } from '../../server/engine/decode';
import { createRng } from '../../server/engine/rng';
import { makeStopCriteria, type MultilinePolicy } from '../../server/engine/stopping';
import { defaultSettings } from '../../server/protocol';
import { loadModel, type LoadedModel } from '../../server/runtime/load-model';

export const modelDir = join(__dirname, '..', '..', 'models', 'specter-tiny');

export async function loadEmbedded(): Promise<LoadedModel> {
  const r = await loadModel(modelDir, { variant: 'model', executionProvider: 'cpu', threads: 0, log: () => undefined });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

export interface RunStats {
  /** Constrained completions. */
  nConstrained: number;
  /** Masks built: the sampled token was rejected. */
  nMasks: number;
  /** Completions the constraint ended (the model closed what the suffix closes). */
  nConstraintStops: number;
  /** Completions the end rule cut back (decoding ended where the constraint does not allow it). */
  nCut: number;
  /** Completions the finishing step closed instead (decode.ts finishCompletion). */
  nFinished: number;
  /** … of which nothing was left. */
  nCutToEmpty: number;
}

export function newRunStats(): RunStats {
  return { nConstrained: 0, nMasks: 0, nConstraintStops: 0, nCut: 0, nCutToEmpty: 0, nFinished: 0 };
}

/** The constraint with its masks counted. */
function counted(c: Constraint, stats: RunStats): Constraint {
  return {
    name: c.name,
    check: (t) => c.check(t),
    mask: (allowed) => {
      stats.nMasks++;
      return c.mask(allowed);
    },
    advance: (t) => c.advance(t),
    rollback: (n) => c.rollback(n),
    canStop: () => c.canStop(),
    shouldStop: () => c.shouldStop?.() === true,
    ...(c.finishMask !== undefined ? { finishMask: (allowed: Uint8Array) => (c.finishMask as NonNullable<Constraint['finishMask']>)(allowed) } : {}),
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
  /** As `specter.completion.multiline`; default: the setting's default, as the completion service. */
  multiline?: MultilinePolicy;
}

export async function complete(model: LoadedModel, o: CompleteOptions, stats: RunStats): Promise<string> {
  return (await completeDetailed(model, o, stats)).text;
}

/** The completion with its token ids (the parse check cuts at token ends). */
export async function completeDetailed(model: LoadedModel, o: CompleteOptions, stats: RunStats): Promise<{ text: string; tokens: number[] }> {
  const template = discoverFimTemplate(model.tokenizer, model.config.fim);
  const prompt = buildPrompt(model.tokenizer, template, { path: o.path, languageId: o.languageId, prefix: o.prefix, suffix: o.suffix }, { maxPrefixTokens: 768, maxSuffixTokens: 192 });
  const outcome = await decode(model.lm, model.tokenizer, {
    prompt: prompt.ids,
    maxTokens: o.maxTokens ?? 64,
    sampling: { temperature: 0, topP: 1 },
    rng: createRng(0),
    stops: makeStopCriteria({ prefix: o.prefix, suffix: o.suffix, maxLines: o.maxLines ?? 8, multiline: o.multiline ?? defaultSettings.completion.multiline, timeCapAfterNewlineMs: 60_000, stopIds: prompt.stopIds }),
    ...(o.constraint !== undefined ? { constraint: counted(o.constraint, stats) } : {}),
  });
  if (outcome.kind !== 'done') throw new Error(outcome.kind === 'error' ? outcome.message : 'cancelled');
  if (o.constraint !== undefined) {
    stats.nConstrained++;
    if (outcome.stopReason === 'constraint') stats.nConstraintStops++;
    if (outcome.nFinishTokens !== undefined) stats.nFinished++;
    if (outcome.nCutChars !== undefined) {
      stats.nCut++;
      if (outcome.text === '') stats.nCutToEmpty++;
    }
  }
  return { text: outcome.text, tokens: outcome.tokens };
}
