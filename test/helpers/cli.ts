// The CLI run as a child process the way a person runs it: `node --import tsx
// src/cli/main.ts ARGS` from the repository root, with its exit code and output.

import { spawn } from 'node:child_process';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '../..');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run the CLI as `node --import tsx src/cli/main.ts ARGS` from the repository root. `onStdout`
 * sees the output as it arrives (to time a signal); the run is killed after `timeoutMs`.
 */
export function cli(
  args: string[], options: { onStdout?: (text: string, child: ReturnType<typeof spawn>) => void; timeoutMs?: number; entry?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.entry ?? ['--import', 'tsx', 'src/cli/main.ts']), ...args], {
      cwd: repo,
      env: { ...process.env, CI: '', NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`threadtrain ${args.join(' ')} ran past ${options.timeoutMs ?? 45_000} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, options.timeoutMs ?? 45_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
