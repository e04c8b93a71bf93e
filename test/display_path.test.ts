// How a path reads in messages (errors.ts displayPath): relative to the current folder when
// it lies inside it, else as given, so that a message does not change with where the process
// starts (a checkout under /tmp showed temp files as "../tt-x/model.ttm").

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { displayPath } from '../src/errors.ts';

describe('displayPath', () => {
  const cwd = process.cwd();
  it('shows a path inside the current folder relative to it', () => {
    expect(displayPath(path.join(cwd, 'runs', 'model.ttm'))).toBe(path.join('runs', 'model.ttm'));
    expect(displayPath(path.join(cwd, 'model.ttm'))).toBe('model.ttm');
  });
  it('shows a path outside the current folder as given, never as ../', () => {
    const sibling = path.join(path.dirname(cwd), 'elsewhere', 'model.ttm');
    expect(displayPath(sibling)).toBe(sibling);
    expect(displayPath('/')).toBe('/');
    expect(displayPath(path.dirname(cwd))).toBe(path.dirname(cwd));
  });
  it('leaves the current folder itself and relative paths as they are', () => {
    expect(displayPath(cwd)).toBe(cwd);
    expect(displayPath('model.ttm')).toBe('model.ttm');
  });
});
