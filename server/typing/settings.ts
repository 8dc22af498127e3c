// Parses the typing layer's settings (`specter.typing.*`, `specter.idleUnloadMinutes`) from the
// raw object the client sends, with the same rules as server/settings.ts: defaults for missing or
// mistyped values, numbers clamped.
import { defaultIdleUnloadMinutes, defaultTypingSettings, type TypingSettings } from '../protocol';

export interface TypingConfig {
  typing: TypingSettings;
  /** 0 = never. */
  idleUnloadMinutes: number;
}

function obj(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}
function num(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}

/** didChangeConfiguration carries `{ specter: {...} }` when the client syncs the section. */
export function unwrapSection(raw: unknown): unknown {
  return typeof raw === 'object' && raw !== null && 'specter' in raw ? (raw as { specter: unknown }).specter : raw;
}

export function parseTypingConfig(raw: unknown): TypingConfig {
  const s = obj(raw);
  const t = obj(s['typing']);
  const d = defaultTypingSettings;
  return {
    typing: {
      cache: bool(t['cache'], d.cache),
      typeThrough: bool(t['typeThrough'], d.typeThrough),
      prefetch: bool(t['prefetch'], d.prefetch),
      reuse: bool(t['reuse'], d.reuse),
      cacheEntries: Math.round(num(t['cacheEntries'], d.cacheEntries, 1, 100_000)),
    },
    idleUnloadMinutes: num(s['idleUnloadMinutes'], defaultIdleUnloadMinutes, 0, 7 * 24 * 60),
  };
}
