import { crc32, deflateRawSync } from 'node:zlib';

/**
 * Writes .xlsx workbooks as Excel lays them out (shared strings, a styles part with number formats, rows and cells
 * addressed with r="…", empty rows simply absent, sheets before sharedStrings.xml in the archive), so the reader
 * is tested on the structure real files have, not on one library's writer.
 */

/** A cell: text (shared string), a number (stored as the given text), a boolean, a date, a formula error. */
export type XCell =
  | string
  | number
  | boolean
  | null
  | { n: string; fmt?: NumberFormat }
  | { date: Date; fmt?: 'date' | 'builtinDate' | 'datetime' }
  | { inline: string }
  | { error: string };

type NumberFormat = 'percent' | 'currency' | 'integer';

export interface XSheet {
  name: string;
  /** Sheet row number (1-based) → its cells from column A; rows not listed are absent from the XML. */
  rows: Record<number, XCell[]>;
}

/** Style index per format: cellXfs below, in this order. */
const STYLE = { general: 0, date: 1, percent: 2, currency: 3, datetime: 4, builtinDate: 5, integer: 6 } as const;

const STYLES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="3"><numFmt numFmtId="164" formatCode="dd\\.mm\\.yyyy"/><numFmt numFmtId="165" formatCode="#,##0.00\\ &quot;₽&quot;"/><numFmt numFmtId="166" formatCode="yyyy\\-mm\\-dd\\ hh:mm:ss"/></numFmts>
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border/></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="7"><xf numFmtId="0" xfId="0"/><xf numFmtId="164" xfId="0" applyNumberFormat="1"/><xf numFmtId="9" xfId="0" applyNumberFormat="1"/><xf numFmtId="165" xfId="0" applyNumberFormat="1"/><xf numFmtId="166" xfId="0" applyNumberFormat="1"/><xf numFmtId="14" xfId="0" applyNumberFormat="1"/><xf numFmtId="1" xfId="0" applyNumberFormat="1"/></cellXfs>
</styleSheet>`;

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function column(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/** Excel's serial day number (1900 system): days since 1899-12-30, the time as a fraction. */
const serial = (d: Date) => String((d.getTime() - Date.UTC(1899, 11, 30)) / 86_400_000);

class Strings {
  readonly list: string[] = [];
  private readonly index = new Map<string, number>();
  of(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.index.set(s, i);
    }
    return i;
  }
}

function cellXml(cell: XCell, ref: string, strings: Strings): string {
  if (cell === null) return '';
  if (typeof cell === 'string') return `<c r="${ref}" t="s"><v>${strings.of(cell)}</v></c>`;
  if (typeof cell === 'number') return `<c r="${ref}"><v>${cell}</v></c>`;
  if (typeof cell === 'boolean') return `<c r="${ref}" t="b"><v>${cell ? 1 : 0}</v></c>`;
  if ('n' in cell) return `<c r="${ref}" s="${STYLE[cell.fmt ?? 'general']}"><v>${cell.n}</v></c>`;
  if ('date' in cell) return `<c r="${ref}" s="${STYLE[cell.fmt ?? 'date']}"><v>${serial(cell.date)}</v></c>`;
  if ('inline' in cell) return `<c r="${ref}" t="inlineStr"><is><t xml:space="preserve">${escapeXml(cell.inline)}</t></is></c>`;
  return `<c r="${ref}" t="e"><f>1/0</f><v>${escapeXml(cell.error)}</v></c>`;
}

function sheetXml(sheet: XSheet, strings: Strings): string {
  const rows = Object.entries(sheet.rows)
    .map(([n, cells]) => [Number(n), cells] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([n, cells]) => `<row r="${n}">${cells.map((c, i) => cellXml(c, `${column(i)}${n}`, strings)).join('')}</row>`);
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' +
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">' +
    `<sheetData>${rows.join('')}</sheetData></worksheet>`
  );
}

/** The parts of a workbook, in the order Excel writes them. */
function workbookParts(sheets: XSheet[]): [string, string][] {
  const strings = new Strings();
  const sheetParts = sheets.map((s, i) => [`xl/worksheets/sheet${i + 1}.xml`, sheetXml(s, strings)] as [string, string]);
  const rel = (id: string, type: string, target: string) =>
    `<Relationship Id="${id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/${type}" Target="${target}"/>`;
  return [
    [
      '[Content_Types].xml',
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>' +
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
        sheets
          .map(
            (_, i) =>
              `<Override PartName="/xl/worksheets/sheet${i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`,
          )
          .join('') +
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' +
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    ],
    [
      '_rels/.rels',
      `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rel('rId1', 'officeDocument', 'xl/workbook.xml')}</Relationships>`,
    ],
    [
      'xl/workbook.xml',
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' +
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>' +
        sheets.map((s, i) => `<sheet name="${escapeXml(s.name)}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`).join('') +
        '</sheets></workbook>',
    ],
    [
      'xl/_rels/workbook.xml.rels',
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
        sheets.map((_, i) => rel(`rId${i + 1}`, 'worksheet', `worksheets/sheet${i + 1}.xml`)).join('') +
        rel(`rId${sheets.length + 1}`, 'styles', 'styles.xml') +
        rel(`rId${sheets.length + 2}`, 'sharedStrings', 'sharedStrings.xml') +
        '</Relationships>',
    ],
    ...sheetParts,
    ['xl/styles.xml', STYLES],
    [
      'xl/sharedStrings.xml',
      `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="${strings.list.length}" uniqueCount="${strings.list.length}">` +
        strings.list.map((s) => `<si><t xml:space="preserve">${escapeXml(s)}</t></si>`).join('') +
        '</sst>',
    ],
  ];
}

/** A ZIP archive of deflated entries (optionally marked encrypted, as a password-protected ZIP is). */
export function zipOf(files: [string, string | Buffer][], opts: { encrypted?: boolean } = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of files) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
    const packed = deflateRawSync(data);
    const nameBytes = Buffer.from(name, 'utf8');
    const flags = 0x800 | (opts.encrypted ? 1 : 0);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, packed);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** An .xlsx workbook with these sheets (the first is the one the importer reads). */
export function xlsxOf(sheets: XSheet[], opts: { encrypted?: boolean } = {}): Buffer {
  return zipOf(workbookParts(sheets), opts);
}

/**
 * The head of what Excel writes for a workbook saved with a password: an OLE compound file (the .xls magic) whose
 * directory names the EncryptionInfo and EncryptedPackage streams. Only what the importer looks at is real.
 */
export function encryptedWorkbook(): Buffer {
  const head = Buffer.alloc(4096);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(head, 0);
  head.writeUInt16LE(0x003e, 0x18); // minor version
  head.writeUInt16LE(0x0003, 0x1a); // major version 3 (512-byte sectors)
  head.writeUInt16LE(0xfffe, 0x1c); // little-endian
  head.writeUInt16LE(9, 0x1e); // sector shift
  const names = ['Root Entry', 'EncryptionInfo', 'EncryptedPackage'];
  names.forEach((n, i) => {
    const at = 1024 + i * 128;
    Buffer.from(n, 'utf16le').copy(head, at);
    head.writeUInt16LE((n.length + 1) * 2, at + 64);
  });
  return Buffer.concat([head, Buffer.alloc(8192, 0x5a)]);
}
