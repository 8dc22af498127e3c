// A Hugging Face style hub on 127.0.0.1 serving one local model directory as repository `repo`:
// the tree listing API (sizes and LFS SHA-256) and resolve URLs, for "Specter: Download Model".
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface FixtureHub {
  endpoint: string;
  close: () => Promise<void>;
}

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .map((f) => f.split(path.sep).join('/'));
}

export async function startFixtureHub(repo: string, dir: string): Promise<FixtureHub> {
  const files = filesUnder(dir);
  const listing = files.map((f) => {
    const content = fs.readFileSync(path.join(dir, f));
    return { type: 'file', path: f, size: content.length, lfs: { oid: createHash('sha256').update(content).digest('hex'), size: content.length } };
  });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === `/api/models/${repo}/tree/main`) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(listing));
      return;
    }
    const prefix = `/${repo}/resolve/main/`;
    const name = url.pathname.startsWith(prefix) ? decodeURIComponent(url.pathname.slice(prefix.length)) : undefined;
    if (name === undefined || !files.includes(name)) {
      res.writeHead(404).end();
      return;
    }
    const content = fs.readFileSync(path.join(dir, name));
    res.writeHead(200, { 'content-length': content.length, 'accept-ranges': 'bytes' }).end(content);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
