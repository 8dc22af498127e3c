// Creates onnxruntime-node sessions on the execution provider the settings ask for, falling back
// to CPU with a warning the status bar can show. Only server/runtime/ imports onnxruntime-node.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderSetting } from '../protocol';
import { fail, ok, ortErrorText, type Outcome } from './outcome';

export interface SessionOptions {
  executionProvider: ExecutionProviderSetting;
  /** Intra-op threads; 0 = onnxruntime's default (one per physical core). */
  threads: number;
  /** Let idle worker threads spin (busy-wait) for work: a little faster, much more CPU time. */
  threadSpinning?: boolean;
  log: (msg: string) => void;
}

export interface CreatedSession {
  session: ort.InferenceSession;
  /** The provider the session was created with: 'cpu', 'cuda', … */
  executionProvider: string;
  warnings: string[];
}

/**
 * GPU providers 'auto' tries, in order. WebGPU is left to an explicit choice: without a GPU driver
 * Dawn may find no adapter or a software one, and small code models decode faster on the CPU
 * than through per-kernel GPU dispatches.
 */
const autoOrder = ['cuda', 'dml', 'coreml'] as const;

export function supportedBackends(): { name: string; bundled: boolean }[] {
  try {
    return ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
  } catch {
    return [{ name: 'cpu', bundled: true }];
  }
}

export async function createSession(onnxPath: string, opts: SessionOptions): Promise<Outcome<CreatedSession>> {
  const warnings: string[] = [];
  const backends = supportedBackends();
  const listed = new Set(backends.map((b) => b.name));
  let candidates: string[];
  if (opts.executionProvider === 'auto') {
    // A provider the npm package does not bundle (CUDA on Linux) is only worth trying when its
    // library was installed (ONNXRUNTIME_NODE_INSTALL=cuda12); trying it otherwise only logs noise.
    candidates = autoOrder.filter((name) => {
      const b = backends.find((x) => x.name === name);
      return b !== undefined && (b.bundled || providerLibraryPresent(name));
    });
  } else if (opts.executionProvider === 'cpu') {
    candidates = [];
  } else if (!listed.has(opts.executionProvider)) {
    warnings.push(`${opts.executionProvider} is not available in this onnxruntime-node build on ${process.platform}-${process.arch} (available: ${[...listed].join(', ')}); using CPU — set specter.executionProvider to auto or cpu`);
    candidates = [];
  } else if (backends.some((b) => b.name === opts.executionProvider && !b.bundled) && !providerLibraryPresent(opts.executionProvider)) {
    warnings.push(`${opts.executionProvider} execution provider is not installed; using CPU — ${providerHint(opts.executionProvider)}`);
    candidates = [];
  } else {
    candidates = [opts.executionProvider];
  }

  for (const ep of candidates) {
    const t0 = performance.now();
    try {
      const session = await ort.InferenceSession.create(onnxPath, sessionOptions(ep, opts.threads, opts.threadSpinning ?? false));
      opts.log(`Session on ${ep} in ${Math.round(performance.now() - t0)} ms`);
      return ok({ session, executionProvider: ep, warnings });
    } catch (e) {
      const why = ortErrorText(e);
      opts.log(`Execution provider ${ep} failed: ${why}`);
      if (opts.executionProvider !== 'auto') {
        warnings.push(`${ep} execution provider failed (${why}); using CPU — ${providerHint(ep)}`);
      }
    }
  }
  try {
    const session = await ort.InferenceSession.create(onnxPath, sessionOptions('cpu', opts.threads, opts.threadSpinning ?? false));
    return ok({ session, executionProvider: 'cpu', warnings });
  } catch (e) {
    // Callers turn this into a message about the file (size, truncation); keep ORT's own words.
    return fail('bad-onnx', ortErrorText(e));
  }
}

function providerHint(ep: string): string {
  switch (ep) {
    case 'cuda':
      return 'install the CUDA provider (reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12; needs CUDA 12 and cuDNN 9) or set specter.executionProvider to cpu';
    case 'webgpu':
      return 'no usable GPU adapter (check the GPU driver; Linux needs Vulkan) — or set specter.executionProvider to cpu';
    default:
      return 'check the GPU driver/runtime or set specter.executionProvider to cpu';
  }
}

export function sessionOptions(ep: string, threads: number, spinning: boolean): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ep === 'cpu' ? ['cpu'] : [ep, 'cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // Warnings about unused initializers and the like are not actionable for users.
    logSeverityLevel: 3,
  };
  if (threads > 0) options.intraOpNumThreads = threads;
  // Idle intra-op workers busy-wait by default. Decoding a code model is many small runs, and
  // there the spinning is most of the CPU time spent (bench/typing): off unless asked for.
  if (!spinning) options.extra = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
  return options;
}

function providerLibraryPresent(name: string): boolean {
  try {
    const pkgDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const ext = process.platform === 'win32' ? 'dll' : process.platform === 'darwin' ? 'dylib' : 'so';
    const prefix = process.platform === 'win32' ? '' : 'lib';
    const dirs = fs.readdirSync(path.join(pkgDir, 'bin'), { withFileTypes: true }).filter((d) => d.isDirectory());
    return dirs.some((d) =>
      fs.existsSync(path.join(pkgDir, 'bin', d.name, process.platform, process.arch, `${prefix}onnxruntime_providers_${name}.${ext}`)),
    );
  } catch {
    return false;
  }
}
