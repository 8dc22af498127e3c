// Builds a CompletionService over the real embedded model, as the CLI and the LSP do.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { CompletionService, type CompletionResult } from '../../server/completion-service';
import { ModelHost } from '../../server/model-host';
import type { SpecterSettings } from '../../server/protocol';

export const embeddedModelDir = path.join(__dirname, '..', '..', 'models', 'specter-tiny');

export interface ServiceUnderTest {
  service: CompletionService;
  host: ModelHost;
  logs: string[];
}

/**
 * Monitor-guided decoding is off by default here: its asynchronous static-analysis answers make
 * output depend on timing, and these tests are about decoding itself (monitor tests cover it).
 * For the same reason the time cap after the first newline is lifted: on a loaded machine it would
 * end one of two otherwise identical completions earlier than the other. So is the parse retries'
 * time budget (specter.constraints.parseRetryBudgetMs), which would stop one of them sooner; its
 * own test sets it.
 */
export async function startService(patch: (s: SpecterSettings) => SpecterSettings = (s) => s): Promise<ServiceUnderTest> {
  const logs: string[] = [];
  const host = new ModelHost(embeddedModelDir, (m) => logs.push(m), () => undefined);
  const service = new CompletionService(host, (m) => logs.push(m), () => undefined);
  service.initialize({});
  const base = service.settings;
  service.settings = patch({
    ...base,
    monitor: { ...base.monitor, enabled: false },
    completion: { ...base.completion, timeCapAfterNewlineMs: 600_000 },
    constraints: { ...base.constraints, parseRetryBudgetMs: 600_000 },
  });
  await host.configure(service.settings);
  if (host.current.state !== 'ready') throw new Error(`model not ready: ${host.current.message}`);
  return { service, host, logs };
}

/** The first completion's text, or '' when there is none. */
export function firstText(r: CompletionResult): string {
  return r.kind === 'ok' ? (r.texts[0] ?? '') : '';
}

/** Golden settings: plain greedy decoding of the model from the prompt as built, no grammar constraint, no token healing, loops not cut, no context cache (each has its own tests). */
export const goldenSettings = (s: SpecterSettings): SpecterSettings => ({ ...s, completion: { ...s.completion, tokenHealing: false, stopLoops: false, contextCache: 'off' }, constraints: { ...s.constraints, mode: 'off' } });

/**
 * Opens `doc` in the service as the editor would and waits (up to 30 s) for its TypeScript project
 * to be built in the background: the monitor's "typescript project … ready" log line.
 */
export async function openTsProject(sut: ServiceUnderTest, doc: { uri: string; prefix: string; suffix: string }): Promise<void> {
  const ready = (): boolean => sut.logs.some((l) => /typescript project .* ready/.test(l));
  sut.service.documentOpened(doc.uri, 'typescript', doc.prefix + doc.suffix);
  for (let i = 0; i < 300 && !ready(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(ready(), sut.logs.join('\n'));
}
