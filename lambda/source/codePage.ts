import { codePageTable, decodeBytes, type SingleByteEncoding } from '../rows/text.ts';

/**
 * Which single-byte code page a non-UTF-8 file is in. The same bytes are letters in all three, so the tell is
 * how the words read: Russian text read as windows-1252 is runs of accented letters (`Èâàí`), Western text
 * read as windows-1251 puts Cyrillic letters inside Latin words (`Josй Mьller`), and either read as Mac Roman
 * (or Mac Roman read as either) puts symbols and capitals inside words (`JosÈ`, `M¸ller`, `Zo‘ Mџller`).
 * Each word with a non-ASCII byte either reads clean or badly; the code page with clearly fewer bad words wins.
 */

/** The candidates, in the order a tie between identical readings is settled (the deployment's history first). */
export const CODE_PAGES: readonly SingleByteEncoding[] = ['windows-1251', 'windows-1252', 'macintosh'];

/** What one byte is in a code page, for reading words (see wordReadsBadly). */
enum K {
  /** Ends a word: ASCII space and CSV/structural punctuation, no-break space. */
  SEP,
  /** ASCII letters, digits and the punctuation that may sit inside a word (`.` `'` `-` `_` …). */
  ASCII_LOWER,
  ASCII_UPPER,
  ASCII_OTHER,
  LATIN_LOWER,
  LATIN_UPPER,
  CYRILLIC_LOWER,
  CYRILLIC_UPPER,
  /** Fine inside a word, between letters: `’` (O’Brien, l’été), `·` (Catalan l·l). */
  INNER,
  /** Fine at a word's start (`«` `„` `“` `‘` `¿` `¡`), at its end (`»` `”` `’` `…` `™` `®` `©` `°` `ª` `º`), or either. */
  EDGE_START,
  EDGE_END,
  EDGE_BOTH,
  /** Anything else (`¸` `‡` `†` `¬` `◊` Greek letters, U+FFFD): a word holding one reads badly. */
  ODD,
}

const ASCII_SEP = new Set(' \t\r\n\f\v,;"|/\\()[]{}<>=+*&');
const INNER = new Set('’·');
const EDGE_START = new Set('«„“‘‚‹¿¡');
const EDGE_END = new Set('»”’›…™®©°ªº¹²³‰%');
const EDGE_BOTH = new Set('€£¥¢¤$№§–—•');
/**
 * Letters no Russian, Ukrainian or Belarusian word has (windows-1251's Serbian and Macedonian ones, where
 * windows-1252 has `€` `‚` `ƒ` `Š`…), and the florin sign: inside a word they are a misreading.
 */
const ODD_LETTERS = new Set('ЂЃѓЉЊЌЋЏђљњќћџЈјЅѕƒ');

function kindOf(ch: string): K {
  const c = ch.charCodeAt(0);
  if (c < 0x80) {
    if (ASCII_SEP.has(ch)) return K.SEP;
    if (c >= 0x61 && c <= 0x7a) return K.ASCII_LOWER;
    if (c >= 0x41 && c <= 0x5a) return K.ASCII_UPPER;
    return c < 0x20 ? K.SEP : K.ASCII_OTHER;
  }
  if (c === 0xa0) return K.SEP;
  if (ODD_LETTERS.has(ch)) return K.ODD;
  const upper = ch.toLowerCase() !== ch;
  if (c >= 0x400 && c <= 0x4ff) return upper ? K.CYRILLIC_UPPER : K.CYRILLIC_LOWER;
  if (c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7) return upper ? K.LATIN_UPPER : K.LATIN_LOWER;
  if (INNER.has(ch)) return K.INNER;
  if (EDGE_START.has(ch)) return K.EDGE_START;
  if (EDGE_END.has(ch)) return K.EDGE_END;
  if (EDGE_BOTH.has(ch)) return K.EDGE_BOTH;
  return K.ODD;
}

/** Byte → kind, per code page (built once, 256 entries; ASCII is the same in all). */
const KINDS = new Map<SingleByteEncoding, Uint8Array>();
function kinds(encoding: SingleByteEncoding): Uint8Array {
  let table = KINDS.get(encoding);
  if (!table) {
    const chars = codePageTable(encoding);
    table = Uint8Array.from(chars, (ch) => kindOf(ch));
    KINDS.set(encoding, table);
  }
  return table;
}

const isLower = (k: K) => k === K.ASCII_LOWER || k === K.LATIN_LOWER || k === K.CYRILLIC_LOWER;
const isLatin = (k: K) => k === K.ASCII_LOWER || k === K.ASCII_UPPER || k === K.LATIN_LOWER || k === K.LATIN_UPPER;
const isCyrillic = (k: K) => k === K.CYRILLIC_LOWER || k === K.CYRILLIC_UPPER;
const isDigit = (b: number | undefined) => b !== undefined && b >= 0x30 && b <= 0x39;
const trimsAtStart = (k: K) => k === K.ASCII_OTHER || k === K.EDGE_START || k === K.EDGE_BOTH;
const trimsAtEnd = (k: K) => k === K.ASCII_OTHER || k === K.EDGE_END || k === K.EDGE_BOTH || k === K.INNER;

/**
 * Whether the word in `bytes[from, to)` (one with a non-ASCII byte) reads badly in the code page whose kinds
 * are `t`: an odd symbol inside it, Latin and Cyrillic letters mixed, an accented capital right after a small
 * letter, a non-ASCII letter between digits (a Mac no-break space read as `К`) or an accented capital after one
 * (`100€` read as Mac `100Ä`; Russian `220В` is fine), or accented Latin letters where a
 * Western word has plain ones (three in a row, or nothing else).
 */
function wordReadsBadly(bytes: ArrayLike<number>, from: number, to: number, t: Uint8Array): boolean {
  let s = from;
  let e = to;
  while (s < e && trimsAtStart(t[bytes[s]])) s++;
  while (e > s && trimsAtEnd(t[bytes[e - 1]])) e--;
  let latin = 0;
  let accented = 0;
  let run = 0;
  let cyrillic = false;
  let prev = K.SEP;
  for (let i = s; i < e; i++) {
    const k = t[bytes[i]] as K;
    if (k >= K.EDGE_START) return true;
    if ((k === K.LATIN_UPPER || k === K.CYRILLIC_UPPER) && isLower(prev)) return true;
    if (k >= K.LATIN_LOWER && k <= K.CYRILLIC_UPPER && isDigit(bytes[i - 1]) && (isDigit(bytes[i + 1]) || k === K.LATIN_UPPER)) return true;
    if (isCyrillic(k)) cyrillic = true;
    else if (isLatin(k)) latin++;
    if (k === K.LATIN_LOWER || k === K.LATIN_UPPER) {
      accented++;
      if (++run >= 3) return true;
    } else run = 0;
    prev = k;
  }
  if (cyrillic && latin > 0) return true;
  return accented >= 2 && accented === latin;
}

/**
 * Words with a non-ASCII byte in latin1 bytes read in `encoding`, how many of them read badly, and where the
 * first bad one is.
 */
export function badWords(bytes: ArrayLike<number>, encoding: SingleByteEncoding): { words: number; bad: number; first?: [number, number] } {
  const t = kinds(encoding);
  let words = 0;
  let bad = 0;
  let first: [number, number] | undefined;
  let start = 0;
  let high = false;
  const n = bytes.length;
  for (let i = 0; i <= n; i++) {
    const b = i < n ? bytes[i] : 0x20;
    if (t[b] === K.SEP) {
      if (high) {
        words++;
        if (wordReadsBadly(bytes, start, i, t)) {
          bad++;
          first ??= [start, i];
        }
      }
      start = i + 1;
      high = false;
    } else if (b >= 0x80) high = true;
  }
  return first ? { words, bad, first } : { words, bad };
}

export type CodePageGuess =
  | { encoding: SingleByteEncoding }
  | {
      /** The readings as good as the best one; every candidate when even the best one is garbled. */
      unsure: readonly SingleByteEncoding[];
      /** No reading is text: more than 1 word in 20 reads badly in each. */
      garbled: boolean;
      bad: Record<SingleByteEncoding, number>;
      words: number;
    };

/**
 * The code page the bytes read as, or the candidates when none is clearly ahead: the winner has the fewest
 * bad words, at most 1 in 20, and every reading that differs from it has more than twice as many plus one.
 * Readings that agree on every byte present are one reading (the first in CODE_PAGES is named).
 */
export function guessCodePage(bytes: Buffer): CodePageGuess {
  const scores = CODE_PAGES.map((encoding) => ({ encoding, ...badWords(bytes, encoding) }));
  const words = scores[0].words;
  const ranked = [...scores].sort((a, b) => a.bad - b.bad);
  const best = ranked[0];
  const differs = differingPages(bytes, best.encoding);
  const garbled = best.bad * 20 > words;
  if (!garbled && ranked.every((s) => !differs.has(s.encoding) || s.bad > 2 * best.bad)) return { encoding: best.encoding };
  const bad = Object.fromEntries(scores.map((s) => [s.encoding, s.bad])) as Record<SingleByteEncoding, number>;
  const rivals = ranked.filter((s) => s === best || (differs.has(s.encoding) && s.bad <= 2 * best.bad));
  return { unsure: garbled ? CODE_PAGES : rivals.map((s) => s.encoding), garbled, bad, words };
}

/** The code pages that read at least one of the bytes present differently from `encoding`. */
function differingPages(bytes: Buffer, encoding: SingleByteEncoding): Set<SingleByteEncoding> {
  const present = new Uint8Array(256);
  for (let i = 0; i < bytes.length; i++) present[bytes[i]] = 1;
  const base = codePageTable(encoding);
  const out = new Set<SingleByteEncoding>();
  for (const other of CODE_PAGES) {
    if (other === encoding) continue;
    const table = codePageTable(other);
    for (let b = 0x80; b < 256; b++) {
      if (present[b] && table[b] !== base[b]) {
        out.add(other);
        break;
      }
    }
  }
  return out;
}

/**
 * A record read in `encoding` whose words read badly there but better in another candidate: the code page
 * that reads it best and the first bad word as read, else undefined. Only a record with a bad word pays for
 * the other readings.
 */
export function betterReading(bytes: Buffer, encoding: SingleByteEncoding): { readsAs: SingleByteEncoding; word: string } | undefined {
  const own = badWords(bytes, encoding);
  if (!own.first) return undefined;
  let best: SingleByteEncoding | undefined;
  let fewest = own.bad;
  for (const other of CODE_PAGES) {
    if (other === encoding) continue;
    const { bad } = badWords(bytes, other);
    if (bad < fewest) {
      fewest = bad;
      best = other;
    }
  }
  if (!best) return undefined;
  const [from, to] = own.first;
  return { readsAs: best, word: decodeBytes(bytes.subarray(from, to), encoding) };
}
