// A CSV reader following RFC 4180: fields separated by commas, records by CRLF (LF and lone CR are
// accepted too), fields optionally enclosed in double quotes, a quote inside a quoted field written
// twice. Quoted fields may hold commas and line breaks. Written here because no CSV package is a
// dependency; it is the one place in the data path that parses CSV.
//
// Strict where lenient parsers silently lose data: a quote inside an unquoted field, text after a
// closing quote, an unterminated quote and a record with the wrong number of fields are errors that
// name the line (and the column for quote errors).

export class CsvError extends Error {
  override name = 'CsvError';
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
  }
}

export interface CsvRecord {
  /** 1-based line on which the record starts (quoted fields can span lines). */
  line: number;
  fields: string[];
}

/** Splits CSV text into records. Blank lines are skipped; a UTF-8 byte-order mark is dropped. */
export function parseCsv(text: string, file = '<csv>'): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = i;
  const n = text.length;
  const fail = (why: string, at: number): never => {
    throw new CsvError(file, line, `${why} (character ${at - lineStart + 1} of the line)`);
  };

  while (i < n) {
    const recordLine = line;
    const fields: string[] = [];
    // One iteration per field; `i` sits at the field's first character.
    for (;;) {
      let value = '';
      if (text[i] === '"') {
        const openedAt = i;
        const openedLine = line;
        i++;
        for (;;) {
          if (i >= n) {
            throw new CsvError(file, openedLine, `unterminated quoted field (opened at character ${openedAt - lineStart + 1})`);
          }
          const c = text[i] as string;
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) {
            line++;
            lineStart = i + 1;
          }
          value += c;
          i++;
        }
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') fail('text after a closing quote', i);
      } else {
        const start = i;
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] === '"') fail('quote inside an unquoted field (enclose the field in quotes and double the quote)', i);
          i++;
        }
        value = text.slice(start, i);
      }
      fields.push(value);
      if (text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    // At a line break or the end of the text.
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    const blank = fields.length === 1 && fields[0] === '';
    if (!blank) records.push({ line: recordLine, fields });
    line++;
    lineStart = i;
  }
  return records;
}

/**
 * Parses CSV with a header row into objects keyed by column name. Checks that column names are
 * unique and non-empty and that every record has as many fields as the header.
 */
export function parseCsvWithHeader(text: string, file = '<csv>'): { columns: string[]; rows: { line: number; values: Map<string, string> }[] } {
  const records = parseCsv(text, file);
  const header = records.shift();
  if (header === undefined) throw new CsvError(file, 1, 'empty file: expected a header row');
  const columns = header.fields.map((c) => c.trim());
  const seen = new Set<string>();
  for (const [k, c] of columns.entries()) {
    if (c === '') throw new CsvError(file, header.line, `column ${k + 1} of the header has no name`);
    if (seen.has(c)) throw new CsvError(file, header.line, `column "${c}" appears twice in the header`);
    seen.add(c);
  }
  const rows = records.map((r) => {
    if (r.fields.length !== columns.length) {
      throw new CsvError(file, r.line, `${r.fields.length} field(s), but the header has ${columns.length} (${columns.join(', ')})`);
    }
    return { line: r.line, values: new Map(columns.map((c, k) => [c, r.fields[k] as string])) };
  });
  return { columns, rows };
}
