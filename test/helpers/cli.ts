// The CLI run the way a person runs it: a child process `node --import tsx src/cli/main.ts
// ARGS` from the repository root, with its exit code and output; or main(args) in this
// process when the exit code and output are all a test checks (a child costs seconds on a
// loaded machine).

import { spawn } from 'node:child_process';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
export type CliRun = Run;

/**
 * Run the CLI as a child process. `onStdout` sees the output as it arrives (to time a
 * signal); the run is killed after `timeoutMs`.
 */
export function cli(
  args: readonly string[], options: { onStdout?: (text: string, child: ReturnType<typeof spawn>) => void; timeoutMs?: number; entry?: string[]; env?: NodeJS.ProcessEnv; uid?: number } = {},
): Promise<Run> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.entry ?? ['--import', 'tsx', 'src/cli/main.ts']), ...args], {
      cwd: REPO,
      env: { ...process.env, CI: '', NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}),
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
      reject(new Error(`threadtrain ${args.join(' ')} ran past ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The CLI as a child process with only a time limit. */
export function runCli(args: readonly string[], timeoutMs = 60_000): Promise<Run> {
  return cli(args, { timeoutMs });
}

/**
 * main(args) in this process, with what it writes to stdout and stderr. Not for --help,
 * which exits the process.
 */
export async function runMain(args: readonly string[]): Promise<Run> {
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

/** The value cell of row `name` in a settings or report table the CLI printed (`| name | value |`). */
export function tableCell(stdout: string, name: string): string | undefined {
  return stdout.split('\n').find((l) => l.startsWith(`| ${name} `))?.split('|')[2]?.trim();
}
