import { describe, expect, it } from 'vitest';
import { appendToChain, genesisHead } from './chain.js';
import { CSV_COLUMNS, csvRow, writeCsv } from './csv.js';

/** A small RFC 4180 reader, so the test checks what a spreadsheet would see. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

async function csvOf(...args: Parameters<typeof writeCsv>): Promise<string> {
  let text = '';
  for await (const chunk of writeCsv(...args)) text += chunk;
  return text;
}

const event = appendToChain(genesisHead('tenant-a'), {
  id: 'evt-1',
  tenantId: 'tenant-a',
  occurredAt: '2025-03-01T10:00:00.000Z',
  actor: { type: 'member', id: '=HYPERLINK("http://evil")' },
  action: 'workflow.update',
  subject: { type: 'workflow', id: 'wf, "quoted"\nname' },
  traceId: null,
  after: { name: 'new' },
  data: { note: 'a,b' },
});

describe('CSV export', () => {
  it('writes a header row and one row per event that a CSV reader gets back intact', async () => {
    const rows = readCsv(await csvOf([event]));
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    const row = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, rows[1]![i]]));
    expect(row).toMatchObject({
      seq: '1',
      id: 'evt-1',
      subjectId: 'wf, "quoted"\nname',
      traceId: '',
      before: '',
      after: '{"name":"new"}',
      data: '{"note":"a,b"}',
      hash: event.hash,
    });
    expect(rows).toHaveLength(2);
  });

  it('defuses cells that a spreadsheet would run as formulas, unless told not to', async () => {
    const [, defused] = readCsv(await csvOf([event]));
    expect(defused![CSV_COLUMNS.indexOf('actorId')]).toBe(`'=HYPERLINK("http://evil")`);
    const [, raw] = readCsv(await csvOf([event], { escapeFormulas: false }));
    expect(raw![CSV_COLUMNS.indexOf('actorId')]).toBe('=HYPERLINK("http://evil")');
  });

  it.each([
    [['plain', ''], 'plain,\r\n'],
    [['a,b'], '"a,b"\r\n'],
    [['say "hi"'], '"say ""hi"""\r\n'],
    [['two\nlines'], '"two\nlines"\r\n'],
    [['-1', '+1', '@x'], "'-1,'+1,'@x\r\n"],
  ])('quotes %j as %j', (cells, text) => {
    expect(csvRow(cells)).toBe(text);
  });
});
