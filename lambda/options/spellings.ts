/**
 * How people spell the documented values (`UTF-8` as Excel's "CSV UTF-8" says it, `cp1251`, `TAB`, `semicolon`):
 * each maps to the one value; anything else goes to the schema as written and is refused there.
 */
export const ENCODINGS: Record<string, string> = {
  auto: 'auto',
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'windows-1251': 'windows-1251',
  windows1251: 'windows-1251',
  cp1251: 'windows-1251',
  win1251: 'windows-1251',
  'windows-1252': 'windows-1252',
  windows1252: 'windows-1252',
  cp1252: 'windows-1252',
  win1252: 'windows-1252',
  latin1: 'windows-1252',
  'iso-8859-1': 'windows-1252',
  macintosh: 'macintosh',
  mac: 'macintosh',
  macroman: 'macintosh',
  'mac-roman': 'macintosh',
  'x-mac-roman': 'macintosh',
};
export const DELIMITERS: Record<string, string> = {
  auto: 'auto',
  ',': ',',
  comma: ',',
  ';': ';',
  semicolon: ';',
  tab: '\t',
  '\\t': '\t',
  '\t': '\t',
};

/** The documented value `value` spells (case and spaces aside), or `value` itself for the schema to judge. */
export function spelled(value: string, known: Record<string, string>): string {
  return known[value.trim().toLowerCase()] ?? known[value] ?? value;
}
