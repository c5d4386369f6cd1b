// A strict JSON parser for safetensors headers. JSON.parse cannot be used: it silently keeps the
// last of two duplicate keys (the spec forbids duplicates, and two parsers disagreeing on which
// one wins is how polyglot files are made), it builds objects where a key named "__proto__"
// misbehaves, and it turns 2.0 into 2 although the reference rejects it as a size. Objects come
// back as Maps (in file order), integers JS holds exactly as numbers, other numbers as JsonInexact.

export type JsonValue = null | boolean | number | string | JsonInexact | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

/** A number with a fraction or exponent, or an integer beyond 2^53: never a valid size here. */
export class JsonInexact {
  constructor(readonly text: string) {}
}

/** A syntax error at a character offset of the header text. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at character ${offset}`);
  }
}

/** Headers nest three levels deep; a bound keeps hostile nesting from overflowing the stack. */
const MAX_DEPTH = 64;

export function parseJson(text: string): JsonValue {
  let i = 0;
  const fail = (msg: string): never => {
    throw new JsonSyntaxError(msg, i);
  };
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
  };
  const literal = (word: string, v: JsonValue): JsonValue => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return v;
    }
    return fail('invalid literal');
  };

  const string = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail('control character in string');
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      i += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': out += unicodeEscape(); break;
        default: i -= 2; fail('invalid escape');
      }
      start = i;
    }
    out += text.slice(start, i);
    i++; // closing quote
    return out;
  };

  const hex4 = (): number => {
    const h = text.slice(i, i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('invalid \\u escape');
    i += 4;
    return parseInt(h, 16);
  };
  // A lone surrogate is not a Unicode string; serde_json (the reference) refuses it too.
  const unicodeEscape = (): string => {
    const hi = hex4();
    if (hi >= 0xdc00 && hi <= 0xdfff) fail('lone surrogate in \\u escape');
    if (hi < 0xd800 || hi > 0xdbff) return String.fromCharCode(hi);
    if (text.slice(i, i + 2) !== '\\u') fail('lone surrogate in \\u escape');
    i += 2;
    const lo = hex4();
    if (lo < 0xdc00 || lo > 0xdfff) fail('lone surrogate in \\u escape');
    return String.fromCharCode(hi, lo);
  };

  const number = (): number | JsonInexact => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('invalid number');
    i += m[0].length;
    const v = Number(m[0]);
    return m[2] === undefined && m[3] === undefined && Number.isSafeInteger(v) ? v : new JsonInexact(m[0]);
  };

  const value = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH} levels`);
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: JsonObject = new Map();
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const keyAt = i;
        const key = string();
        if (obj.has(key)) {
          i = keyAt;
          fail(`duplicate key ${JSON.stringify(key)}`);
        }
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        obj.set(key, value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true', true);
    if (c === 'f') return literal('false', false);
    if (c === 'n') return literal('null', null);
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    return fail(c === undefined ? 'unexpected end' : 'unexpected character');
  };

  const v = value(0);
  ws();
  if (i !== text.length) fail('trailing characters after the JSON value');
  return v;
}
