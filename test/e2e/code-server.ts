// Runs a real VS Code (code-server 4.96.4, installed by scripts/e2e/setup.sh) on 127.0.0.1 with
// throw-away user-data and extensions folders, and installs the Specter VSIX into it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
const codeServerVersion = '4.96.4';

export function codeServerEntry(): string {
  const cache = process.env['SPECTER_E2E_CACHE'] ?? path.join(repoRoot, '.cache');
  const entry = path.join(cache, `code-server-${codeServerVersion}`, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (!fs.existsSync(entry)) throw new Error(`code-server ${codeServerVersion} not found at ${entry}: run scripts/e2e/setup.sh first`);
  return entry;
}

/** Packages the extension (npm run package) unless SPECTER_E2E_VSIX names a prebuilt VSIX. */
export function packageVsix(outDir: string): string {
  const prebuilt = process.env['SPECTER_E2E_VSIX'];
  if (prebuilt !== undefined && prebuilt !== '') return path.resolve(prebuilt);
  const out = path.join(outDir, 'specter-e2e.vsix');
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'package.mjs'), '--target', 'linux-x64', '--out', out], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`packaging failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface CodeServer {
  url: string;
  userDataDir: string;
  extensionsDir: string;
  /** Everything code-server printed, for the failure report. */
  output: () => string;
  stop: () => Promise<void>;
}

export interface CodeServerOptions {
  vsix: string;
  /** False: install nothing (the extension comes from an extensionDevelopmentPath instead). */
  installVsix?: boolean;
  workspace: string;
  /** User settings.json content. */
  userSettings: Record<string, unknown>;
  /**
   * Machine settings (user-data/Machine/settings.json): code-server is a remote, so settings with
   * `machine` scope (specter.modelDirectories) are read from here, not from the user settings.
   */
  machineSettings?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const entry = codeServerEntry();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'specter-e2e-vscode-'));
  const userDataDir = path.join(base, 'user-data');
  const extensionsDir = path.join(base, 'extensions');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(options.userSettings, null, 2));
  fs.mkdirSync(path.join(userDataDir, 'Machine'), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'Machine', 'settings.json'), JSON.stringify(options.machineSettings ?? {}, null, 2));
  const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  if (options.installVsix !== false) {
    const install = spawnSync(process.execPath, [entry, ...common, '--install-extension', options.vsix], { encoding: 'utf8' });
    if (install.status !== 0 || !/successfully installed/i.test(install.stdout)) {
      throw new Error(`--install-extension failed (${install.status}):\n${install.stdout}\n${install.stderr}`);
    }
  }

  const port = await freePort();
  let log = '';
  const child: ChildProcess = spawn(
    process.execPath,
    [entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', ...common, options.workspace],
    { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, child, () => log);

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // The process group: code-server, its extension host and the Specter server.
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5_000);
    await exited;
    clearTimeout(timer);
  };
  return { url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(options.workspace)}`, userDataDir, extensionsDir, output: () => log, stop };
}

async function waitForHttp(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const tStartMs = Date.now();
  while (Date.now() - tStartMs < 60_000) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`code-server did not answer ${url} within 60 s:\n${output()}`);
}

/** Resident set size of a process in MB, from /proc (Linux only). */
export function rssMb(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match?.[1] !== undefined ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Pids whose command line contains `needle` (Linux only). */
export function findProcesses(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(needle)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}
