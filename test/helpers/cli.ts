// Run the threadtrain CLI as a child process, as a person does (`node --import tsx
// src/cli/main.ts ARGS` from the repository root), and collect its exit code and output.

import { spawn } from 'node:child_process';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: REPO, env: { ...process.env, CI: '', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`threadtrain ${args.join(' ')} ran past ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * main(args) in this process, with what it writes to stdout and stderr: no child process
 * to start (seconds each on a loaded machine). Not for --help, which exits the process.
 */
export async function runMain(args: readonly string[]): Promise<CliRun> {
  const { main } = await import('../../src/cli/main.ts');
  const written = { stdout: '', stderr: '' };
  const capture = (stream: 'stdout' | 'stderr') => {
    const original = process[stream].write;
    process[stream].write = ((chunk: string | Uint8Array) => {
      written[stream] += String(chunk);
      return true;
    }) as typeof original;
    return () => (process[stream].write = original);
  };
  const restore = [capture('stdout'), capture('stderr')];
  try {
    const code = await main(args);
    return { code, ...written };
  } finally {
    for (const r of restore) r();
  }
}
