// Where a JSON text first goes wrong, and what was expected there. Node's JSON.parse names
// a position for some errors only ("Unexpected token '}', "{"a": tru}" is not valid JSON"
// has none), so a config's syntax error is found again by this small scanner, run only
// after JSON.parse has failed: the offset of the first bad token, what JSON allows there,
// what is there instead, and a hint for the usual slips (a trailing comma, NaN, a typo'd
// true).

export interface JsonSyntaxError {
  /** Offset of the bad token in the text (UTF-16 units, as the text is indexed). */
  readonly offset: number;
  readonly expected: string;
  readonly found: string;
  readonly hint: string;
}

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_$][A-Za-z0-9_$]*/y;
const DEFAULT_HINT = 'JSON has no comments or trailing commas, and needs double quotes around every key and string';

class Fail {
  constructor(readonly error: JsonSyntaxError) {}
}

/** The first syntax error of `text`, or undefined when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const fail = (expected: string, hint = DEFAULT_HINT): never => {
    throw new Fail({ offset: i, expected, found: tokenAt(text, i), hint });
  };
  const ws = () => {
    while (i < text.length && WS.has(text[i]!)) i++;
  };
  const string = () => {
    const start = i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail('a closing quote before the end of the line', 'a string cannot span lines; write a line break as \\n');
      i += text[i] === '\\' ? 2 : 1;
    }
    if (i >= text.length) {
      i = start;
      fail('a string closed on the same line', 'a string is missing its closing double quote');
    }
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    NUMBER.lastIndex = i;
    if ((c === '-' || (c !== undefined && c >= '0' && c <= '9')) && NUMBER.test(text)) {
      i = NUMBER.lastIndex;
      return;
    }
    WORD.lastIndex = i;
    const word = WORD.exec(text)?.[0];
    if (word === 'true' || word === 'false' || word === 'null') {
      i += word.length;
      return;
    }
    if (word === 'NaN' || word === 'Infinity' || (c === '-' && text.startsWith('-Infinity', i))) {
      fail('a value', 'JSON has no NaN or Infinity: write a number, or leave the field out');
    }
    if (word !== undefined) fail('a value', 'the bare words JSON knows are true, false and null; text needs double quotes');
    if (c === "'") fail('a value', 'JSON strings take double quotes, not single ones');
    fail('a value');
  };
  const object = () => {
    i++;
    ws();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] !== '"') {
        fail('a key in double quotes', text[i] === '}' ? 'JSON allows no comma before }: remove the last comma' : DEFAULT_HINT);
      }
      string();
      ws();
      if (text[i] !== ':') fail("':' after the key");
      i++;
      value();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      fail("',' or '}'", 'a comma goes between the fields of an object');
    }
  };
  const array = () => {
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] === ']') fail('a value', 'JSON allows no comma before ]: remove the last comma');
      value();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      fail("',' or ']'", 'a comma goes between the items of a list');
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fail('the end of the file after the value', 'a config file holds one JSON object');
    return undefined;
  } catch (error) {
    if (error instanceof Fail) return error.error;
    throw error;
  }
}

/** The token at `i` as a message shows it: a word whole, else one character, or the end of the file. */
function tokenAt(text: string, i: number): string {
  if (i >= text.length) return 'the end of the file';
  WORD.lastIndex = i;
  const word = WORD.exec(text)?.[0];
  if (word !== undefined) return word.length > 20 ? `${word.slice(0, 20)}…` : word;
  if (text.startsWith('-Infinity', i)) return '-Infinity';
  const c = text[i]!;
  if (c === '"') {
    // A string: shown as written, up to its closing quote on the same line.
    const m = /^"(?:[^"\\\n]|\\.){0,30}"?/.exec(text.slice(i, i + 34))![0];
    return `the string ${m.length > 32 ? `${m.slice(0, 31)}…` : m}`;
  }
  return c === '\n' || c === '\r' ? 'a line break' : JSON.stringify(c);
}
