// The nearest valid name to a misspelt one ("epoch" → "epochs", "learning_rate" → "lr"), for
// every "did you mean" in the option messages and the CLI. Its own module, free of zod, so
// the CLI's start (main.ts suggests flags before any command's module is loaded) stays light.

// Names people reach for that no edit distance links to ours.
const ALIASES: Record<string, string> = { learningrate: 'lr', rate: 'lr', iterations: 'epochs', batch: 'batchSize', minibatch: 'batchSize' };

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name `word` was probably meant to be, if one is close enough to say so. */
export function closestName(word: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_\-\s]/g, '');
  const w = norm(word);
  const alias = ALIASES[w];
  if (alias && known.includes(alias)) return alias;
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of known) {
    const c = norm(k);
    // Case and separator differences (batch_size, BatchSize) count as exact; a prefix of
    // three letters or more (earlyStop) as close, but less close than one typo.
    const prefix = Math.min(w.length, c.length) >= 3 && (c.startsWith(w) || w.startsWith(c));
    const score = c === w ? 0 : Math.min(editDistance(w, c), prefix ? 1.5 : Infinity);
    if (score < bestScore) {
      best = k;
      bestScore = score;
    }
  }
  return best !== undefined && bestScore <= Math.max(1.5, Math.floor(w.length / 3)) ? best : undefined;
}
