// Every command's --help shows examples, and the exit codes are documented where a person
// looks: the top-level --help and the README.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli/commands.ts';
import { REPO, runCli } from './helpers/cli.ts';

const EXIT_CODES = [/^ +0 +done$/m, /^ +1 +error\b/m, /^ +2 +usage error\b/m, /^ +130 +interrupted \(Ctrl-C\)$/m];

describe('--help', () => {
  it('every command\'s help has at least one example of that command', async () => {
    const names = COMMANDS.map((c) => c.command.split(' ')[0]!);
    expect(names).toEqual(expect.arrayContaining(['train', 'evaluate', 'predict', 'plot', 'inspect', 'bench']));
    // Two at a time (two cores): eight children at once on a loaded machine ran past their timeout.
    const runs: Awaited<ReturnType<typeof runCli>>[] = [];
    for (let i = 0; i < names.length; i += 2) runs.push(...await Promise.all(names.slice(i, i + 2).map((name) => runCli([name, '--help'], 120_000))));
    runs.forEach((r, i) => {
      expect(r.code, names[i]).toBe(0);
      const examples = r.stdout.split('\nExamples:\n')[1];
      expect(examples, `${names[i]} --help has an Examples section`).toBeDefined();
      expect(examples).toContain(`threadtrain ${names[i]} `);
    });
  }, 300_000);

  it('the top-level help lists the exit codes and what --json does', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const line of EXIT_CODES) expect(r.stdout).toMatch(line);
    expect(r.stdout).toContain('With --json, evaluate, inspect and bench print one JSON object on stdout and nothing else.');
  });

  it('--version prints the version package.json gives, and exits 0', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version);
    expect(r.stderr).toBe('');
  });

  it('the README gives the same exit codes', () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    expect(readme).toMatch(/\| `0` \| done \|/);
    expect(readme).toMatch(/\| `1` \| error/);
    expect(readme).toMatch(/\| `2` \| usage error/);
    expect(readme).toMatch(/\| `130` \| interrupted/);
  });
});
